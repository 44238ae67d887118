package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdviseGivesHugePages touches an advised slice and reads the kernel's
// account of it: the mapping that holds it must have anonymous huge pages.
func TestAdviseGivesHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off or absent here (%q, %v)", mode, err)
	}
	s := Advise(make([]byte, 32<<20))
	for i := 0; i < len(s); i += 4096 {
		s[i] = 1
	}
	addr := uintptr(unsafe.Pointer(&s[len(s)/2]))
	kb, err := anonHugeKB(addr)
	if err != nil {
		t.Fatal(err)
	}
	if kb == 0 {
		t.Fatalf("the mapping at %#x has no huge pages after Advise (mode %q)", addr, strings.TrimSpace(string(mode)))
	}
}

// anonHugeKB returns AnonHugePages of the mapping in /proc/self/smaps that
// holds addr.
func anonHugeKB(addr uintptr) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		// A mapping starts with a line "lo-hi perms ..."; its fields follow.
		if lo, hi, ok := strings.Cut(f[0], "-"); ok {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uint64(addr) >= a && uint64(addr) < b
				continue
			}
		}
		if in && f[0] == "AnonHugePages:" && len(f) > 1 {
			return strconv.Atoi(f[1])
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no mapping holds %#x", addr)
}
