// Package input reads markers into a mapcluster.Points: CSV with a header
// row, GeoJSON FeatureCollections and newline-delimited GeoJSON Features,
// each optionally gzip-compressed.
//
// Readers stream: memory holds the columns being built and one row or
// feature, not the file. Coordinates are checked as they are read (finite,
// longitude within -180..180, latitude within -90..90). Every fault in the
// input is a *mapcluster.Error with code EInvalid whose message names the
// input, the line (and for JSON the byte column) and the column or field,
// such as
//
//	cities.csv:17: column "lat": 91.5 is outside -90..90
//	x.geojson:40:9: features[12]: geometry is LineString, want Point or MultiPoint
//
// With Options.SkipInvalid, bad rows and features are skipped and counted in
// the Report instead.
//
// Properties become typed columns. In CSV every column but the coordinates
// (lng, lon, long or longitude; lat or latitude) and id is a property; it is
// a number column when every non-empty cell is a decimal number, else a
// string column, and an empty cell is missing. In GeoJSON a property is a
// number or string column when all its values are numbers or strings, else
// a JSON column holding each value's JSON text; null is missing. A
// MultiPoint gives one point per position, all sharing the feature's id and
// properties, as supercluster does.
//
// Ids come from the CSV column named id or the features' ids. Points.ID is
// nil when no point has one; an empty id marks a point without one.
// IDNumeric is set when every id present is a number in JSON's syntax, so
// that writers may emit it as such ("007" is therefore text).
//
// CSV is RFC 4180 with some tolerance: a UTF-8 BOM, CRLF or LF line ends,
// blank lines, and stray quotes inside unquoted fields are accepted; the
// delimiter is a comma unless the header line has none but has tabs or
// semicolons. Limits guard memory against malformed input: a CSV row or
// NDJSON line may not exceed 64 MiB, a feature of a FeatureCollection 256
// MiB, and a GeoJSON input may have at most 4096 distinct property names.
package input
