package hugepage

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdvise checks that Advise marks the memory in the middle of a large
// slice MADV_HUGEPAGE (the kernel lists the "hg" flag on the mapping that
// holds it) and leaves the slice's contents alone.
func TestAdvise(t *testing.T) {
	s := make([]uint64, 8*Size/8)
	s[0], s[len(s)-1] = 1, 2
	Advise(s)
	Advise(make([]byte, 10)) // too small: nothing to do
	Advise([]byte(nil))
	if s[0] != 1 || s[len(s)-1] != 2 {
		t.Fatal("Advise changed the slice")
	}
	if runtime.GOOS != "linux" {
		return
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	flags, ok := vmFlags(smaps, uintptr(unsafe.Pointer(&s[len(s)/2])))
	if !ok {
		t.Fatal("the slice is in no mapping of /proc/self/smaps")
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the slice's mapping has flags %q, without hg", flags)
	}
	runtime.KeepAlive(s)
}

// vmFlags returns the VmFlags of the mapping in smaps that holds addr.
func vmFlags(smaps []byte, addr uintptr) (string, bool) {
	in := false
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && !strings.HasSuffix(lo, ":") {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= a && uint64(addr) < b
			continue
		}
		if f, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.TrimSpace(f), true
		}
	}
	return "", false
}
