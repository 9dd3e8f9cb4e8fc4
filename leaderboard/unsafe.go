package leaderboard

import "unsafe"

// view returns b as a string without copying. It is the only use of unsafe
// in the package and is sound because arena bytes are never written again
// once a member is stored (members.store only appends; compact copies to
// fresh chunks), so the returned string is immutable for its lifetime.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
