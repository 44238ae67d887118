package input

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mapcluster/mapcluster"
)

// Format is an input format.
type Format uint8

// The formats. Each may be gzip-compressed; compression is detected from the
// content, not the name.
const (
	// Auto detects the format from the name's extension (ignoring a final
	// ".gz") and, failing that, from the content.
	Auto Format = iota
	// CSV is comma-separated values with a header row (RFC 4180).
	CSV
	// GeoJSON is a GeoJSON FeatureCollection (RFC 7946).
	GeoJSON
	// NDJSON is newline-delimited GeoJSON Features, one per line, optionally
	// each preceded by an RS byte as in GeoJSON text sequences (RFC 8142).
	NDJSON
)

// String returns the format's name as ParseFormat accepts it.
func (f Format) String() string {
	switch f {
	case Auto:
		return "auto"
	case CSV:
		return "csv"
	case GeoJSON:
		return "geojson"
	case NDJSON:
		return "ndjson"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat returns the format with the given name: "auto" (or ""),
// "csv", "geojson" (or "json"), "ndjson" (or "geojsonl", "geojsonseq").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "csv":
		return CSV, nil
	case "geojson", "json":
		return GeoJSON, nil
	case "ndjson", "geojsonl", "geojsonseq", "jsonl":
		return NDJSON, nil
	}
	return Auto, mapcluster.InvalidField("format", "%q is not a format, want csv, geojson or ndjson", s)
}

// formatOfName returns the format that name's extension implies, or Auto.
func formatOfName(name string) Format {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".gz" {
		ext = strings.ToLower(filepath.Ext(strings.TrimSuffix(name, filepath.Ext(name))))
	}
	switch ext {
	case ".csv", ".tsv":
		return CSV
	case ".geojson", ".json":
		return GeoJSON
	case ".ndjson", ".geojsonl", ".geojsonseq", ".jsonl":
		return NDJSON
	}
	return Auto
}

// Options configure a read. The zero value reads strictly.
type Options struct {
	// SkipInvalid skips invalid rows and features, counting them in the
	// Report, instead of stopping at the first. Errors that leave the rest
	// of the input unreadable (a bad CSV header, broken JSON outside a
	// feature's brackets, corrupt gzip data) still stop the read.
	SkipInvalid bool
	// Progress, when set, receives stage "read" with done and total in bytes
	// of the input as stored (compressed, for gzip). total is 0 when the size
	// is unknown.
	Progress mapcluster.Progress
	// Format overrides detection when it is not Auto.
	Format Format

	maxColumns int // for tests; 0 means the default, maxColumns
}

// maxSkippedSamples bounds Report.FirstSkipped.
const maxSkippedSamples = 10

// Report describes a read.
type Report struct {
	// Read is the number of points read. A MultiPoint feature counts once
	// per position.
	Read int
	// Skipped is the number of rows or features skipped as invalid.
	Skipped int
	// FirstSkipped holds the errors of the first few skipped rows or
	// features (at most 10).
	FirstSkipped []error
}

// ReadPoints reads the markers in the file at path. The format comes from
// opts.Format or else the extension: .csv, .geojson or .json, .ndjson or
// .geojsonl or .geojsonseq, each optionally followed by .gz; gzip is also
// recognised by its magic bytes. Invalid input yields a *mapcluster.Error
// with code EInvalid whose message names the file, the line and the column
// or field at fault; a missing file yields ENotFound. The Report is non-nil
// whenever reading started, even on error.
func ReadPoints(ctx context.Context, path string, opts Options) (*mapcluster.Points, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &mapcluster.Error{Code: mapcluster.ENotFound, Message: "read points", Err: err}
		}
		return nil, nil, fmt.Errorf("read points: %w", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return decode(ctx, f, size, f, opts.Format, path, opts)
}

// Decode reads markers from r, for example an uploaded body. format may be
// Auto, in which case opts.Format, then name's extension, then the content
// decide. name identifies the input in error messages. Gzip-compressed input
// is decompressed transparently. Errors are as for ReadPoints.
func Decode(ctx context.Context, r io.Reader, format Format, name string, opts Options) (*mapcluster.Points, *Report, error) {
	// Learn the size where that is cheap, for progress and capacity.
	var size int64
	var ra io.ReaderAt
	switch x := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		size = int64(x.Len())
		if s, ok := r.(interface{ Size() int64 }); ok && s.Size() == size {
			ra, _ = r.(io.ReaderAt) // nothing read yet: the end is the end
		}
	case *os.File:
		if fi, err := x.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
			ra = x
		}
	}
	return decode(ctx, r, size, ra, format, name, opts)
}

// decode reads r, of size bytes (0 if unknown). ra, when not nil, reads the
// same bytes at offsets; it is used only to learn the decompressed size of
// gzip input from its trailer.
func decode(ctx context.Context, r io.Reader, size int64, ra io.ReaderAt, format Format, name string, opts Options) (*mapcluster.Points, *Report, error) {
	if format == Auto {
		format = opts.Format
	}
	if format == Auto {
		format = formatOfName(name)
	}
	if format > NDJSON {
		return nil, nil, mapcluster.InvalidField("format", "unknown format %d", format)
	}
	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(sourceReader{counter}, 64<<10)
	var in io.Reader = br
	expect := size
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, nil, wrapReadError(err, name)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, wrapReadError(err, name)
		}
		defer zr.Close()
		in = zr
		switch r.(type) {
		case *os.File, *bytes.Reader, *strings.Reader:
			// Decompress in a goroutine of its own, ahead of the parser:
			// inflating costs about as much as parsing. Only for sources
			// whose reads do not block for long, because on an error the
			// reader waits for the goroutine's read to return.
			ahead := newReadAhead(zr)
			defer ahead.Close()
			in = ahead
		}
		expect = gzipSize(ra, size)
	}
	if format == Auto {
		sb := bufio.NewReaderSize(in, 64<<10)
		format = sniff(sb)
		in = sb
	}
	d := &decoder{
		ctx:     ctx,
		name:    name,
		opts:    opts,
		report:  &Report{},
		counter: counter,
		size:    size,
		expect:  expect,
	}
	d.b.byName = make(map[string]int)
	d.maxColumns = cmp.Or(opts.maxColumns, maxColumns)
	err = nil
	switch format {
	case CSV:
		err = d.readCSV(in)
	case GeoJSON:
		d.b.jsonMode = true
		err = d.readGeoJSON(in)
	case NDJSON:
		d.b.jsonMode = true
		err = d.readNDJSON(in)
	}
	d.report.Read = len(d.b.lng)
	if err != nil {
		return nil, d.report, err
	}
	opts.Progress.Report("read", counter.n.Load(), size)
	return d.b.points(), d.report, nil
}

// gzipSize returns the decompressed size that a gzip file's trailer
// records, or 0. The trailer holds the size modulo 2^32 of the last member
// only, so the result is a hint for capacity, never trusted.
func gzipSize(ra io.ReaderAt, size int64) int64 {
	var b [4]byte
	if ra == nil || size < 18 {
		return 0
	}
	if _, err := ra.ReadAt(b[:], size-4); err != nil {
		return 0
	}
	n := int64(binary.LittleEndian.Uint32(b[:]))
	if n < size {
		return 0
	}
	return n
}

// sniff guesses the format of content that has no telling name: JSON whose
// first line is a whole Feature is NDJSON, other JSON is GeoJSON, anything
// else CSV.
func sniff(br *bufio.Reader) Format {
	head, _ := br.Peek(br.Size())
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 {
		return CSV
	}
	switch head[0] {
	case 0x1e:
		return NDJSON
	case '{':
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line = head[:i]
		}
		if obj := bytes.TrimSpace(line); json.Valid(obj) {
			var f feature
			if parseFeatureMembers(obj, &f) == nil && stringValue(f.typ) == "Feature" {
				return NDJSON
			}
		}
		return GeoJSON
	case '[':
		return GeoJSON
	}
	return CSV
}

// countingReader counts the bytes read through it, for progress. The count
// is atomic because with gzip input a read-ahead goroutine does the reading.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// sourceReader marks the errors of the underlying reader as sourceErrors,
// so that an I/O error can be told from a format error after gzip or a
// decoder has passed it on.
type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

// sourceError is an error of the underlying reader.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// wrapReadError classifies an error met while reading: corrupt or truncated
// gzip data is invalid input; errors of the source are passed on, wrapped.
func wrapReadError(err error, name string) error {
	var me *mapcluster.Error
	if errors.As(err, &me) {
		return err
	}
	var se *sourceError
	if errors.As(err, &se) {
		if errors.Is(se.err, io.ErrUnexpectedEOF) {
			return &mapcluster.Error{Code: mapcluster.EInvalid, Message: name + ": truncated input", Err: se.err}
		}
		return fmt.Errorf("read %s: %w", name, se.err)
	}
	var ce flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &ce) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &mapcluster.Error{Code: mapcluster.EInvalid, Message: name + ": corrupt gzip data", Err: err}
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// readAhead reads blocks from r in a goroutine, so that reading (here:
// inflating) overlaps with parsing.
type readAhead struct {
	full   chan aheadBlock
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	cur    []byte // unread part of the current block
	last   []byte // the current block, to recycle
	err    error
}

type aheadBlock struct {
	b   []byte
	err error
}

const aheadBlockSize = 256 << 10

func newReadAhead(r io.Reader) *readAhead {
	a := &readAhead{
		full:   make(chan aheadBlock, 2),
		free:   make(chan []byte, 3),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range 3 {
		a.free <- make([]byte, aheadBlockSize)
	}
	go func() {
		defer close(a.exited)
		for {
			var buf []byte
			select {
			case buf = <-a.free:
			case <-a.done:
				return
			}
			n := 0
			var err error
			for n < len(buf) && err == nil {
				var m int
				m, err = r.Read(buf[n:])
				n += m
			}
			select {
			case a.full <- aheadBlock{buf[:n], err}:
			case <-a.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.last != nil {
			a.free <- a.last[:cap(a.last)]
			a.last = nil
		}
		blk := <-a.full
		a.cur, a.last, a.err = blk.b, blk.b, blk.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it, so that the reader it reads
// may be closed.
func (a *readAhead) Close() {
	close(a.done)
	<-a.exited
}

// sampleRows is how many rows or features are read before estimating how
// many there are in all.
const sampleRows = 1000

// checkEvery is how many rows or features pass between checks of the
// context and progress reports.
const checkEvery = 4096

// decoder holds the state of one read.
type decoder struct {
	ctx     context.Context
	name    string
	opts    Options
	report  *Report
	counter *countingReader
	size    int64 // of the input as stored, or 0
	expect  int64 // expected bytes of decompressed input, or 0
	b       builder
	rows    int // rows or features seen, for checkEvery

	maxColumns int          // bound on distinct GeoJSON property names
	coords     []float64    // positions of the current feature
	compact    bytes.Buffer // scratch for compacting JSON property values
}

// tick is called once per row or feature with the bytes of decompressed
// input consumed so far. Every checkEvery calls it checks the context and
// reports progress; once, early, it reserves room for the points expected.
func (d *decoder) tick(consumed int64) error {
	d.rows++
	if d.rows%checkEvery != 0 {
		if d.rows == sampleRows && d.expect > 0 && consumed > 0 {
			// Rows of fewer than 16 bytes are rare; the cap keeps a
			// misleading start from reserving far too much.
			est := float64(len(d.b.lng)) * float64(d.expect) / float64(consumed) * 1.02
			d.b.reserve(int(min(est, float64(d.expect/16))))
		}
		return nil
	}
	if err := d.ctx.Err(); err != nil {
		return fmt.Errorf("read %s: %w", d.name, err)
	}
	d.opts.Progress.Report("read", d.counter.n.Load(), d.size)
	return nil
}

// invalid returns an EInvalid error at a position of the input. col <= 0
// leaves the column out.
func (d *decoder) invalid(line, col int, field, format string, args ...any) *mapcluster.Error {
	var sb strings.Builder
	sb.WriteString(d.name)
	sb.WriteByte(':')
	sb.WriteString(strconv.Itoa(line))
	if col > 0 {
		sb.WriteByte(':')
		sb.WriteString(strconv.Itoa(col))
	}
	sb.WriteString(": ")
	fmt.Fprintf(&sb, format, args...)
	return &mapcluster.Error{Code: mapcluster.EInvalid, Field: field, Message: sb.String()}
}

// skip handles an invalid row or feature: with SkipInvalid it counts it and
// returns nil, else it returns err.
func (d *decoder) skip(err *mapcluster.Error) error {
	if !d.opts.SkipInvalid {
		return err
	}
	d.report.Skipped++
	if len(d.report.FirstSkipped) < maxSkippedSamples {
		d.report.FirstSkipped = append(d.report.FirstSkipped, err)
	}
	return nil
}

// checkLng checks a longitude, returning a description of the fault or "".
// supercluster projects longitudes without wrapping them, so one outside
// -180..180 would land off the map: it is rejected rather than wrapped.
func checkLng(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "is not a finite number"
	case v < -180 || v > 180:
		return "is outside -180..180"
	}
	return ""
}

// checkLat checks a latitude, returning a description of the fault or "".
func checkLat(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "is not a finite number"
	case v < -90 || v > 90:
		return "is outside -90..90"
	}
	return ""
}

// builder accumulates points.
type builder struct {
	lng, lat []float64
	ids      idBuilder
	cols     []*colBuilder
	byName   map[string]int
	jsonMode bool
}

// column returns the builder of the named property column, adding it.
func (b *builder) column(name []byte) *colBuilder {
	if i, ok := b.byName[string(name)]; ok {
		return b.cols[i]
	}
	c := &colBuilder{name: string(name), jsonMode: b.jsonMode}
	b.byName[c.name] = len(b.cols)
	b.cols = append(b.cols, c)
	return c
}

// reserve grows the builder for rows points, assuming the rest of the
// input is like what was read so far, so that slices need not grow (and be
// copied) step by step.
func (b *builder) reserve(rows int) {
	if n := len(b.lng); rows > n {
		b.lng = slices.Grow(b.lng, rows-n)
		b.lat = slices.Grow(b.lat, rows-n)
	}
	b.ids.reserve(rows)
	for _, c := range b.cols {
		c.reserve(rows)
	}
}

// points finishes the read.
func (b *builder) points() *mapcluster.Points {
	n := len(b.lng)
	p := &mapcluster.Points{Lng: b.lng, Lat: b.lat}
	if p.Lng == nil {
		p.Lng, p.Lat = []float64{}, []float64{}
	}
	p.ID, p.IDNumeric = b.ids.result(n)
	if len(b.cols) > 0 {
		p.Props = make([]mapcluster.Column, len(b.cols))
		for i, c := range b.cols {
			p.Props[i] = c.column(n)
		}
	}
	return p
}
