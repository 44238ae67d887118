package mapcluster

import "math"

// Points is a columnar set of markers: coordinates in flat slices, properties
// apart from them, so that engines can run over millions of points without a
// per-point allocation. All slices have length Len().
type Points struct {
	// Lng and Lat are WGS84 degrees. Readers guarantee finite values with
	// |Lat| <= 90.
	Lng, Lat []float64
	// ID holds each point's id as text, or is nil when the input had none.
	ID []string
	// IDNumeric reports that every id is a JSON number, so writers emit ids
	// as numbers rather than strings.
	IDNumeric bool
	// Props are the property columns, in input order of first appearance.
	Props []Column
}

// Len returns the number of points.
func (p *Points) Len() int { return len(p.Lng) }

// Column returns the property column with the given name, or nil.
func (p *Points) Column(name string) *Column {
	for i := range p.Props {
		if p.Props[i].Name == name {
			return &p.Props[i]
		}
	}
	return nil
}

// Append adds one point with no properties; property columns, when present,
// get a missing value. It is meant for tests and generators; readers fill the
// columns directly.
func (p *Points) Append(lng, lat float64) {
	p.Lng = append(p.Lng, lng)
	p.Lat = append(p.Lat, lat)
	if p.ID != nil {
		p.ID = append(p.ID, "")
	}
	for i := range p.Props {
		p.Props[i].appendMissing()
	}
}

// ColumnKind is the type of a property column.
type ColumnKind uint8

// The column kinds. A column whose values are all numbers (or missing) is
// KindNumber; all strings (or missing) is KindString; anything else (booleans,
// objects, arrays, mixed types) is KindJSON and holds each value's raw JSON.
const (
	KindNumber ColumnKind = iota + 1
	KindString
	KindJSON
)

// String returns the kind's name.
func (k ColumnKind) String() string {
	switch k {
	case KindNumber:
		return "number"
	case KindString:
		return "string"
	case KindJSON:
		return "json"
	}
	return "unknown"
}

// Column is one property over all points. For KindNumber, Num holds the
// values; for KindString and KindJSON, Str holds them (raw JSON text for
// KindJSON). Missing marks the points that have no value (nil when none is
// missing); a missing number is also NaN in Num.
type Column struct {
	Name    string
	Kind    ColumnKind
	Num     []float64
	Str     []string
	Missing []bool
}

// Len returns the number of values in the column.
func (c *Column) Len() int {
	if c.Kind == KindNumber {
		return len(c.Num)
	}
	return len(c.Str)
}

// IsMissing reports whether point i has no value in this column.
func (c *Column) IsMissing(i int) bool { return c.Missing != nil && c.Missing[i] }

func (c *Column) appendMissing() {
	n := c.Len()
	if c.Missing == nil {
		c.Missing = make([]bool, n, n+1)
	}
	c.Missing = append(c.Missing, true)
	if c.Kind == KindNumber {
		c.Num = append(c.Num, math.NaN())
	} else {
		c.Str = append(c.Str, "")
	}
}
