package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI tests build the real binary and run it as a user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mapcluster-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "mapcluster")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestBuildStatsOnBundledSample(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCLI(t, "build", "--stats")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var st struct {
		Points          int            `json:"points"`
		FeaturesPerZoom map[string]int `json:"features_per_zoom"`
		ParseMS         *float64       `json:"parse_ms"`
		ClusterMS       *float64       `json:"cluster_ms"`
		PeakRSSMB       float64        `json:"peak_rss_mb"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("stats are not JSON: %v\n%s", err, out)
	}
	// supercluster 9.1.0 finds 41 features at z0 and 135,160 at z16
	if st.Points != 135233 || st.FeaturesPerZoom["0"] != 41 || st.FeaturesPerZoom["16"] != 135160 || st.FeaturesPerZoom["17"] != 135233 {
		t.Errorf("points %d, z0 %d, z16 %d, z17 %d", st.Points, st.FeaturesPerZoom["0"], st.FeaturesPerZoom["16"], st.FeaturesPerZoom["17"])
	}
	if st.ParseMS == nil || st.ClusterMS == nil || st.PeakRSSMB <= 0 {
		t.Errorf("missing timings or memory: %s", out)
	}
	if errOut != "" {
		t.Errorf("no progress bars expected when stderr is not a terminal, got %q", errOut)
	}
}

func TestClustersGeoJSON(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCLI(t, "clusters", "-z", "2", "--bbox", "170,-60,-170,60", "--aggregate", "sum:population", "--category", "country")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
		t.Fatalf("not a non-empty FeatureCollection (%v): %.300s", err, out)
	}
	clusters := 0
	for _, f := range fc.Features {
		if f.Properties["cluster"] == true {
			clusters++
			if _, ok := f.Properties["sum_population"]; !ok {
				t.Errorf("cluster without sum_population: %v", f.Properties)
			}
			if _, ok := f.Properties["country_counts"].(map[string]any); !ok {
				t.Errorf("cluster without country_counts: %v", f.Properties)
			}
		}
	}
	if clusters == 0 {
		t.Error("no clusters at z2 across the antimeridian")
	}
}

func TestBadInputIsNamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("id,lng,lat\n1,10,20\n2,11,91.5\n3,abc,4\n4,12,21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		code  int
		inErr []string
		inOut string
	}{
		{"latitude out of range", []string{"build", "-i", bad}, 2, []string{"bad.csv", ":3", "lat"}, ""},
		{"skip invalid counts", []string{"build", "-i", bad, "--skip-invalid", "--stats"}, 0, []string{"skipped 2"}, `"points":2`},
		{"min-points", []string{"build", "--min-points", "1"}, 2, []string{"min-points"}, ""},
		{"max-zoom", []string{"build", "--max-zoom", "99"}, 2, []string{"max-zoom"}, ""},
		{"aggregate", []string{"build", "--aggregate", "avg:population"}, 2, []string{"aggregate", "avg"}, ""},
		{"aggregate field", []string{"build", "--aggregate", "sum:nope"}, 2, []string{"aggregate", "nope"}, ""},
		{"bbox", []string{"clusters", "-z", "3", "--bbox", "1,2,3"}, 2, []string{"bbox"}, ""},
		{"missing file", []string{"build", "-i", filepath.Join(dir, "nope.csv")}, 1, []string{"nope.csv"}, ""},
		{"unknown flag", []string{"build", "--radious", "3"}, 2, []string{"radious"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			for _, s := range tc.inErr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr %q does not mention %q", errOut, s)
				}
			}
			if tc.inOut != "" && !strings.Contains(out, tc.inOut) {
				t.Errorf("stdout %q does not contain %q", out, tc.inOut)
			}
		})
	}
}
