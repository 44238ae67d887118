// Package hugepage asks the kernel to back large buffers with transparent
// huge pages.
//
// The Go runtime leaves its heap to the system's huge-page policy, which on
// most Linux distributions is "madvise": a page of 4 KiB at a time, one page
// fault each, unless a region asks for more. The clustering and
// simplification engines fill arrays of hundreds of megabytes once each, so
// the first touch of their pages is a large share of a build: on the 2-core
// CI machine a 4 KiB fault costs about 14 µs, and the 10M-point build took
// 508,000 of them (5 s of system time). Advise marks a freshly made slice's
// interior for huge pages before it is written, which turns those faults into
// 2 MiB ones (BENCHMARKS.md, "Page faults and huge pages").
package hugepage

import (
	"runtime"
	"unsafe"
)

// MinBytes is the smallest slice Advise marks: smaller ones rarely span a
// whole aligned huge page, and the system call would cost more than it saves.
const MinBytes = 4 << 20

// size is the huge page size assumed for alignment.
const size = 2 << 20

// Advise marks the huge-page-aligned interior of s's backing array (up to its
// capacity) for transparent huge pages and returns s. Call it on a slice that
// was just made, before writing to it: pages already touched keep their size.
// It does nothing for slices under MinBytes, on systems without transparent
// huge pages, and where the system call fails; it never changes s's contents.
func Advise[T any](s []T) []T {
	var zero T
	n := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if n < MinBytes {
		return s
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))), n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	beg := (p+size-1)&^(size-1) - p
	end := (p+n)&^(size-1) - p
	if beg < end {
		advise(b[beg:end])
	}
	return s
}

// Reserve grows the heap by about n bytes of address space marked for huge
// pages and lets it go at once. Go's page allocator hands out the lowest free
// addresses first, so the allocations that follow, small ones included, are
// placed in it and fault 2 MiB at a time. It touches no memory: the resident
// size does not grow until the heap does. The collection that frees the
// range at once costs little when called, as meant, before the heap grows.
// It does nothing on 32-bit systems, whose address space is too small to
// spare.
//
// n is capped at a quarter of the machine's memory: the reserve is mapped
// read-write, and the kernel may refuse a mapping far beyond its memory, which
// the Go runtime treats as fatal.
func Reserve(n int) {
	n = min(n, reserveLimit())
	if n < MinBytes || unsafe.Sizeof(uintptr(0)) < 8 {
		return
	}
	b := Advise(make([]byte, n))
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
}
