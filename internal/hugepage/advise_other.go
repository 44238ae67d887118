//go:build !linux

package hugepage

// advise does nothing where transparent huge pages do not exist.
func advise(b []byte) {}

// reserveLimit is 0: Reserve has nothing to gain here.
func reserveLimit() int { return 0 }
