package input_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
)

func Example() {
	const cities = `id,name,population,lng,lat
2988507,Paris,2138551,2.3488,48.85341
2643743,London,8961989,-0.12574,51.50853
3117735,Madrid,,-3.70256,40.4165
`
	p, rep, err := input.Decode(context.Background(), strings.NewReader(cities), input.Auto, "cities.csv", input.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Read, "points, numeric ids:", p.IDNumeric)
	for _, c := range p.Props {
		fmt.Println(c.Name, c.Kind)
	}
	fmt.Println(p.ID[2], p.Column("name").Str[2], p.Lng[2], p.Lat[2], p.Column("population").IsMissing(2))

	// Bad rows stop the read with an error that says where, or with
	// SkipInvalid are counted and skipped.
	const bad = "name,lng,lat\nParis,2.3488,48.85341\nNowhere,12,abc\n"
	_, _, err = input.Decode(context.Background(), strings.NewReader(bad), input.CSV, "bad.csv", input.Options{})
	fmt.Println(mapcluster.ErrorCodeOf(err), err)
	_, rep, _ = input.Decode(context.Background(), strings.NewReader(bad), input.CSV, "bad.csv", input.Options{SkipInvalid: true})
	fmt.Println(rep.Read, "read,", rep.Skipped, "skipped")
	// Output:
	// 3 points, numeric ids: true
	// name string
	// population number
	// 3117735 Madrid -3.70256 40.4165 true
	// invalid-argument bad.csv:3: column "lat": "abc" is not a number
	// 1 read, 1 skipped
}
