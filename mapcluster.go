// Package mapcluster holds the domain of mapcluster: the columnar marker set
// that every reader produces and every engine consumes, the progress callback
// that engines report through, and the error type whose codes the CLI and the
// HTTP layer turn into messages and statuses.
//
// The engines live in packages named for what they do (cluster, simplify,
// tile, pmtiles); readers live in input; cmd/mapcluster wires them together.
package mapcluster

// Progress receives the progress of a long-running stage. stage names the
// work ("read", "cluster", "tile z5", ...), done and total count its units
// (bytes read, zoom levels, quadtree nodes: each stage says which). total may
// be 0 when unknown. A Progress must be
// safe for concurrent use and cheap: engines call it from their workers.
type Progress func(stage string, done, total int64)

// Report calls p when it is not nil. It lets engines report without a nil
// check at every call site.
func (p Progress) Report(stage string, done, total int64) {
	if p != nil {
		p(stage, done, total)
	}
}
