package cluster

import (
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster"
)

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// Abbreviate returns supercluster's point_count_abbreviated: the count
// itself below 1000, else "1.2k" or "15k" (as a string).
func Abbreviate(count int) any {
	switch {
	case count >= 10000:
		return strconv.FormatFloat(jsRound(float64(count)/1000), 'f', -1, 64) + "k"
	case count >= 1000:
		return strconv.FormatFloat(jsRound(float64(count)/100)/10, 'f', -1, 64) + "k"
	}
	return count
}

// Properties returns the GeoJSON properties of f: for a cluster,
// supercluster's cluster, cluster_id, point_count and
// point_count_abbreviated plus the aggregates; for a point, its input
// properties.
func (ix *Index) Properties(f Feature) map[string]any {
	if f.IsCluster() {
		props := map[string]any{
			"cluster":                 true,
			"cluster_id":              f.ID,
			"point_count":             f.Count,
			"point_count_abbreviated": Abbreviate(f.Count),
		}
		ix.aggs.properties(ix, int(f.item)-ix.n, props)
		return props
	}
	i := int(f.item)
	props := make(map[string]any, len(ix.pts.Props))
	for c := range ix.pts.Props {
		col := &ix.pts.Props[c]
		if col.IsMissing(i) {
			continue
		}
		switch col.Kind {
		case mapcluster.KindNumber:
			props[col.Name] = col.Num[i]
		case mapcluster.KindString:
			props[col.Name] = col.Str[i]
		default:
			props[col.Name] = rawJSON(col.Str[i])
		}
	}
	return props
}

// rawJSON is a property value kept as its JSON text.
type rawJSON string

// MarshalJSON implements json.Marshaler.
func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// GeoJSON converts features to a GeoJSON FeatureCollection. Clusters get
// their cluster id as the feature id; points get their input id when the
// input had ids.
func (ix *Index) GeoJSON(fs []Feature) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	fc.Features = make([]*geojson.Feature, 0, len(fs))
	for _, f := range fs {
		gf := geojson.NewFeature(orb.Point{f.Lng, f.Lat})
		gf.Properties = ix.Properties(f)
		if f.IsCluster() {
			gf.ID = f.ID
		} else if ids := ix.pts.ID; ids != nil && ids[f.item] != "" {
			if ix.pts.IDNumeric {
				if v, err := strconv.ParseFloat(ids[f.item], 64); err == nil {
					gf.ID = v
				} else {
					gf.ID = ids[f.item]
				}
			} else {
				gf.ID = ids[f.item]
			}
		}
		fc.Features = append(fc.Features, gf)
	}
	return fc
}
