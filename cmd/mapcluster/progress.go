package main

import (
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/mapcluster/mapcluster"
)

// progressBars turns mapcluster.Progress reports into one bar per stage on
// a terminal, and into nothing when stderr is not a terminal.
type progressBars struct {
	mu   sync.Mutex
	p    *mpb.Progress
	bars map[string]*mpb.Bar
}

// newProgressBars returns bars drawn on w when w is a terminal, else nil
// (whose Report and Wait do nothing).
func newProgressBars(w io.Writer) *progressBars {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progressBars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40)), bars: map[string]*mpb.Bar{}}
}

// Progress returns the callback to hand to engines.
func (pb *progressBars) Progress() mapcluster.Progress {
	if pb == nil {
		return nil
	}
	return pb.report
}

func (pb *progressBars) report(stage string, done, total int64) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	bar, ok := pb.bars[stage]
	if !ok {
		bar = pb.p.AddBar(max(total, 1),
			mpb.PrependDecorators(decor.Name(stage, decor.WC{W: 12, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Elapsed(decor.ET_STYLE_GO, decor.WC{W: 6})),
		)
		pb.bars[stage] = bar
	}
	if total > 0 {
		bar.SetTotal(total, false)
	}
	bar.SetCurrent(done)
	if total > 0 && done >= total {
		bar.SetTotal(total, true)
	}
}

// Wait completes every bar and waits for the last frame to be drawn.
func (pb *progressBars) Wait() {
	if pb == nil {
		return
	}
	pb.mu.Lock()
	for _, b := range pb.bars {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	pb.mu.Unlock()
	pb.p.Wait()
}
