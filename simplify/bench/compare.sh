#!/usr/bin/env bash
# Compares `mapcluster simplify` with mapshaper and measures how time scales
# with vertex count. Usage: simplify/bench/compare.sh [RUNS]
#   needs: go, python3, and mapshaper from npm (MAPSHAPER=path/to/mapshaper,
#   default: npx --prefix /tmp/mapshaper mapshaper; install it with
#   `npm install --prefix /tmp/mapshaper mapshaper`, outside the repository).
# Inputs come from ../shared/data next to the repository (countries-50m,
# countries-10m) and a 4x tiled copy of countries-10m made here.
set -euo pipefail
runs=${1:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${DATA:-$root/../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapshaper=${MAPSHAPER:-/tmp/mapshaper/node_modules/.bin/mapshaper}

go build -o "$work/mapcluster" "$root/cmd/mapcluster"
zcat "$data/countries-50m.geojson.gz" > "$work/c50.geojson"
zcat "$data/countries-10m.geojson.gz" > "$work/c10.geojson"
# 4x tiled: four half-size copies of the world, one per quadrant.
python3 - "$work/c10.geojson" "$work/c10x4.geojson" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for qx, qy in ((-90, -45), (90, -45), (-90, 45), (90, 45)):
    def tr(c):
        if isinstance(c[0], (int, float)):
            return [c[0] / 2 + qx, c[1] / 2 + qy]
        return [tr(x) for x in c]
    for f in d["features"]:
        g = f["geometry"]
        out.append({"type": "Feature", "id": "%s/%d,%d" % (f.get("id"), qx, qy), "properties": f["properties"],
                    "geometry": {"type": g["type"], "coordinates": tr(g["coordinates"])}})
json.dump({"type": "FeatureCollection", "features": out}, open(sys.argv[2], "w"))
PY

echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
for name in c50 c10 c10x4; do
  best=""
  for i in $(seq "$runs"); do
    rm -rf "$work/out"
    st=$("$work/mapcluster" simplify --input "$work/$name.geojson" --min-zoom 0 --max-zoom 12 --out "$work/out" --stats)
    line=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["vertices_in"], d["read_ms"], d["prepare_ms"], d["topology_ms"], d["simplify_ms"], d["write_ms"], round(d["topology_ms"]+d["simplify_ms"],1))' "$st")
    t=$(echo "$line" | awk '{print $7}')
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $(echo "$best" | awk '{print $7}'))}"; then best=$line; fi
  done
  echo "mapcluster $name (best of $runs): vertices_in read_ms prepare_ms topology_ms simplify_ms write_ms topology+simplify_ms = $best"
done

for name in c10; do
  for i in $(seq "$runs"); do
    /usr/bin/time -f "mapshaper $name one level: %e s wall, %U s user, %M KB" \
      "$mapshaper" "$work/$name.geojson" -simplify weighted 5% keep-shapes -o "$work/ms-out.geojson" 2>&1 | grep -v '^\[o\]' || true
  done
done

/usr/bin/time -f "mapcluster c10 GeoJSON -> PMTiles z0-12, whole process: %e s wall, %U s user, %M KB" \
  "$work/mapcluster" simplify --input "$work/c10.geojson" --min-zoom 0 --max-zoom 12 --out "$work/c10.pmtiles" --stats > "$work/pm.json"
python3 -c 'import json; d=json.load(open("'"$work/pm.json"'")); print("  stats:", {k: d[k] for k in ("read_ms","prepare_ms","topology_ms","simplify_ms","write_ms","tiles","peak_rss_mb")})'
ls -l "$work/c10.pmtiles" | awk '{print "  archive bytes:", $5}'
