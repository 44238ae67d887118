package simplify

import (
	"context"
	"slices"

	"github.com/paulmach/orb"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb/geojson"
	"golang.org/x/sync/errgroup"
)

type builder struct {
	pool     sync.Pool // of *levelWork
	opts     *Options
	features []*geojson.Feature
	t        *topo
	imp      []float64
	// sample holds every 61st importance, sorted (schedule), to size the
	// shortcut list of a level up front (shortcutRoom).
	sample []float64
}

// Build simplifies features for every zoom from opts.MinZoom to
// opts.MaxZoom. All features must be polygonal (Polygon, MultiPolygon) or
// all lineal (LineString, MultiLineString). Invalid rings are repaired and
// listed in Result.Repairs, or rejected with an *mapcluster.Error (code
// EInvalid, naming the feature and ring) when opts.Strict is set;
// coordinates outside -180..180, -90..90 and other geometry types are always
// rejected. The input is not modified; output features share its ids and
// property maps.
func Build(ctx context.Context, features []*geojson.Feature, opts Options) (*Result, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	res := &Result{}
	t0 := time.Now()
	feats, err := prepare(ctx, features, &opts)
	if err != nil {
		return nil, err
	}
	for _, f := range feats {
		res.Stats.VerticesIn += f.inPts
		res.Repairs = append(res.Repairs, f.repair...)
	}
	res.Repaired = make([]*geojson.Feature, len(features))
	for i, f := range feats {
		res.Repaired[i] = &geojson.Feature{Type: "Feature", ID: features[i].ID, Properties: features[i].Properties, Geometry: f.geometry(features[i].Geometry)}
	}
	t1 := time.Now()
	res.Stats.PrepareTime = t1.Sub(t0)
	opts.Progress.Report("topology", 0, 1)
	t := buildTopology(feats, opts.Workers)
	opts.Progress.Report("topology", 1, 1)
	var imp []float64
	{
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { t.buildBlockTree(); return nil })
		g.Go(func() (err error) { imp, err = computeImportance(gctx, t, &opts); return err })
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	t.refs, t.srcMerc = nil, nil // only importance needs them
	res.Stats.Arcs = t.arcs()
	for _, u := range t.uses {
		if u > 1 {
			res.Stats.SharedArcs++
		}
	}
	t2 := time.Now()
	res.Stats.TopologyTime = t2.Sub(t1)

	b := &builder{opts: &opts, features: features, t: t, imp: imp}
	b.pool.New = func() any { return new(levelWork) }
	n := opts.MaxZoom - opts.MinZoom + 1
	res.Levels = make([]Level, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	var done atomic.Int64
	// The costliest tasks first, so that workers finish together. A task
	// builds one level, or the top levels one after the other, from the
	// top down on one levelWork, each reusing the result of the level
	// above (buildLevelOn).
	for _, task := range b.schedule(n) {
		g.Go(func() error {
			w := b.pool.Get().(*levelWork)
			defer b.pool.Put(w)
			above := 0.0
			for k := task.hi; k >= task.lo; k-- {
				if err := gctx.Err(); err != nil {
					return err
				}
				lv := b.buildLevelOn(w, opts.MinZoom+k, above)
				above = lv.Tolerance
				res.Levels[k] = lv
				opts.Progress.Report("simplify", done.Add(1), int64(n))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res.Stats.SimplifyTime = time.Since(t2)
	return res, nil
}

// geometry returns the prepared feature as an orb geometry of the input's
// kind (a Polygon may become a MultiPolygon when repair splits it).
func (f feat) geometry(in orb.Geometry) orb.Geometry {
	if f.lineal {
		var mls orb.MultiLineString
		for _, p := range f.parts {
			ls := make(orb.LineString, len(p.rings[0].pts))
			for i, q := range p.rings[0].pts {
				ls[i] = orb.Point{q.X, q.Y}
			}
			mls = append(mls, ls)
		}
		if _, ok := in.(orb.LineString); ok && len(mls) == 1 {
			return mls[0]
		}
		return mls
	}
	var mp orb.MultiPolygon
	for _, p := range f.parts {
		var poly orb.Polygon
		for _, r := range p.rings {
			rr := make(orb.Ring, len(r.pts)+1)
			for i, q := range r.pts {
				rr[i] = orb.Point{q.X, q.Y}
			}
			rr[len(r.pts)] = rr[0]
			poly = append(poly, rr)
		}
		mp = append(mp, poly)
	}
	if _, ok := in.(orb.Polygon); ok && len(mp) == 1 {
		return mp[0]
	}
	return mp
}

// levelTask is a range of level indexes, built from hi down to lo by one
// goroutine.
type levelTask struct {
	lo, hi, cost int
}

// schedule splits the levels into tasks and orders them by estimated cost,
// highest first. Repair work grows with both the vertices removed and
// those kept, so a level's estimate is the smaller of the two, from a
// sample of the importances. The top levels that remove fewer than 1/16
// of the vertices form one task: most of their shortcuts were shortcuts
// at the zoom above too, which buildLevel exploits when the level above
// was built first.
func (b *builder) schedule(n int) []levelTask {
	var sample []float64
	for v := 0; v < len(b.imp); v += 61 {
		sample = append(sample, b.imp[v])
	}
	slices.Sort(sample)
	b.sample = sample
	var tasks []levelTask
	top := true // still in the run of cheap levels at the top
	for k := n - 1; k >= 0; k-- {
		tol := Tolerance(b.opts.MinZoom+k, b.opts.Detail, b.opts.ToleranceScale)
		removed, _ := slices.BinarySearch(sample, tol)
		cost := min(removed, len(sample)-removed)
		top = top && 16*removed < len(sample)
		if top && k < n-1 {
			tasks[0].lo = k
			tasks[0].cost += cost
			continue
		}
		tasks = append(tasks, levelTask{k, k, cost})
	}
	slices.SortStableFunc(tasks, func(x, y levelTask) int { return y.cost - x.cost })
	return tasks
}

// shortcutRoom returns the room to make in a level's shortcut list before
// linking at tolerance tol: a level has at most as many shortcuts as it
// removes vertices, and as it keeps, estimated from the sample with an
// eighth to spare, and link wants room for a whole arc beyond the list.
// Grown by appending instead, the lists of the first levels on a levelWork
// (the largest) were allocated about twice over, in fresh memory, whose
// pages are slow to touch on the benchmark VM.
func (b *builder) shortcutRoom(tol float64) int {
	if len(b.sample) == 0 {
		return 0
	}
	removed, _ := slices.BinarySearch(b.sample, tol)
	est := min(removed, len(b.sample)-removed) * len(b.imp) / len(b.sample)
	return est + est/8 + b.t.maxArc
}
