//go:build !linux

package hugepage

// advise does nothing where transparent huge pages do not exist.
func advise(b []byte) {}
