//go:build !linux

package sequencer

import "errors"

// setAffinity is not implemented outside Linux: the standard library has no
// portable call for it and the package takes no new dependency.
func setAffinity([]int) error { return errors.ErrUnsupported }
