package consistenthash

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Errors returned by the package. Match them with errors.Is: most are wrapped with the
// offending node name or value.
var (
	// ErrEmpty is returned by lookups on a ring (or Rendezvous set) without nodes.
	ErrEmpty = errors.New("consistenthash: no nodes")
	// ErrDuplicateNode is returned by Add for a node that is already present.
	ErrDuplicateNode = errors.New("consistenthash: duplicate node")
	// ErrUnknownNode is returned by Remove for a node that is not present.
	ErrUnknownNode = errors.New("consistenthash: unknown node")
	// ErrInvalidWeight is returned by Add for a weight below 1, or one that would give a
	// node more than MaxPoints virtual nodes.
	ErrInvalidWeight = errors.New("consistenthash: invalid weight")
	// ErrInvalidNode is returned by Add for an empty node name.
	ErrInvalidNode = errors.New("consistenthash: invalid node name")
	// ErrInvalidConfig is returned by New for a Config it cannot honour.
	ErrInvalidConfig = errors.New("consistenthash: invalid config")
	// ErrInvalidCount is returned by GetN for a negative count.
	ErrInvalidCount = errors.New("consistenthash: invalid count")
)

// DefaultVirtualNodes is the number of ring points per unit of weight when
// Config.VirtualNodes is zero. Lamping & Veach put the load standard error of a ring at about
// 1/sqrt(points per node): 160 points gives about 8%.
const DefaultVirtualNodes = 160

// MaxPoints bounds the ring points of one node (VirtualNodes × weight), so that a bad weight
// cannot exhaust memory.
const MaxPoints = 1 << 22

// Config configures a Ring. The zero value is valid: 160 virtual nodes per unit of weight,
// xxhash, no load bound.
type Config struct {
	// VirtualNodes is the number of ring points per unit of weight (default 160, at most
	// MaxPoints).
	VirtualNodes int
	// Hash maps keys and virtual-node names to ring positions (default xxhash.Sum64). It
	// must be deterministic and must not retain its argument. Changing it remaps every key.
	Hash func([]byte) uint64
	// LoadFactor > 1 enables bounded loads (Mirrokni, Thorup & Zadimoghaddam): Acquire never
	// places a key on a node whose load would exceed ceil(LoadFactor × average load). Zero
	// disables the bound; values in (0, 1], negative, NaN or infinite are invalid.
	LoadFactor float64
}

// withDefaults returns a validated copy of c with defaults filled in; c is not modified.
func (c Config) withDefaults() (Config, error) {
	if c.VirtualNodes == 0 {
		c.VirtualNodes = DefaultVirtualNodes
	}
	if c.VirtualNodes < 0 || c.VirtualNodes > MaxPoints {
		return c, fmt.Errorf("%w: VirtualNodes %d not in [1, %d]", ErrInvalidConfig, c.VirtualNodes, MaxPoints)
	}
	lf := c.LoadFactor
	if lf != 0 && (math.IsNaN(lf) || math.IsInf(lf, 0) || lf <= 1) {
		return c, fmt.Errorf("%w: LoadFactor %v must be 0 (off) or a finite value > 1", ErrInvalidConfig, lf)
	}
	return c, nil
}

// sum hashes key with fn, or with xxhash when fn is nil; the direct call lets the compiler
// skip an indirect call on the default path.
func sum(fn func([]byte) uint64, key []byte) uint64 {
	if fn == nil {
		return xxhash.Sum64(key)
	}
	return fn(key)
}

// find returns node's index in the sorted names, or an error wrapping ErrUnknownNode.
func find(names []string, node string) (int, error) {
	k, ok := slices.BinarySearch(names, node)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownNode, node)
	}
	return k, nil
}
