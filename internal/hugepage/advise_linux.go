package hugepage

import "golang.org/x/sys/unix"

// advise marks b, whose start and length are multiples of size, for huge
// pages. An error (no transparent huge pages) leaves b as it was.
func advise(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
