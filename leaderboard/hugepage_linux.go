package leaderboard

import "syscall"

// adviseHuge marks b (2 MiB-aligned) MADV_HUGEPAGE, so that with the
// kernel's transparent huge pages in "madvise" (or "always") mode its pages
// are 2 MiB ones. It is only advice: an error (an old kernel, THP disabled)
// leaves b on ordinary pages, which is still correct.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
