package hugepage

import (
	"math"

	"golang.org/x/sys/unix"
)

// advise marks b, whose start and length are multiples of size, for huge
// pages. An error (no transparent huge pages) leaves b as it was.
func advise(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}

// reserveLimit is a quarter of the machine's memory, or 0 when unknown.
func reserveLimit() int {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int(min(uint64(si.Totalram)*uint64(si.Unit)/4, math.MaxInt))
}
