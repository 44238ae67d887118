#!/usr/bin/env bash
# Clustering speed, mapcluster against supercluster 9.1.0, measured in one run
# on one machine (ratios are what count; absolute times are noisy).
#
#   bench/cluster.sh            # world-cities, zooms 0-16, radius 40, 5 rounds
#   ROUNDS=3 bench/cluster.sh
#
# Needs: go, node, and npm ci --prefix ../shared/bench/supercluster.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
harness=../shared/bench/supercluster
data=sample/world-cities.csv.gz
go build -o bin/mapcluster ./cmd/mapcluster
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3), node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  sc=$(node "$harness/bench.mjs" --input "$data" --runs 5 | sed -E 's/.*"load_ms_median":([0-9.]+).*/\1/')
  g2=$(go test ./cluster -run '^$' -bench 'BuildWorldCities$' -benchtime 10x -cpu 2 | awk '/^Benchmark/{printf "%.1f", $3/1e6}')
  g1=$(go test ./cluster -run '^$' -bench 'BuildWorldCities$' -benchtime 10x -cpu 1 | awk '/^Benchmark/{printf "%.1f", $3/1e6}')
  echo "round $r: supercluster ${sc} ms | mapcluster 2 workers ${g2} ms ($(echo "scale=1; $sc/$g2" | bc)x) | 1 worker ${g1} ms ($(echo "scale=1; $sc/$g1" | bc)x)"
done
