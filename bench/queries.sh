#!/usr/bin/env bash
# Query speed, mapcluster against supercluster 9.1.0, measured in one run on
# one machine: getTile and getClusters over the same workload on the
# world-cities index (zooms 0-16, radius 40), one thread each. The workload
# (12,752 tiles, 2,312 map views) is defined in cluster/query_bench_test.go
# and bench/queries.mjs; both print the features they returned, which must
# agree (TestQueryConformance checks every answer).
#
#   bench/queries.sh            # 5 rounds
#   ROUNDS=3 bench/queries.sh
#
# Needs: go, node, and npm ci --prefix ../shared/bench/supercluster.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
harness=../shared/bench/supercluster
go test -c -o bin/cluster.test ./cluster
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3), node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  sc=$(node bench/queries.mjs --harness "$harness" --input sample/world-cities.csv.gz --runs 20)
  sct=$(echo "$sc" | sed -E 's/.*"tiles_ms_median":([0-9.]+).*/\1/')
  scv=$(echo "$sc" | sed -E 's/.*"views_ms_median":([0-9.]+).*/\1/')
  go=$(cd cluster && ../bin/cluster.test -test.run '^$' -test.bench 'QueriesWorldCities' -test.benchtime 20x -test.cpu 1)
  gt=$(echo "$go" | awk '/tiles/{printf "%.1f", $3/1e6}')
  gv=$(echo "$go" | awk '/views/{printf "%.1f", $3/1e6}')
  echo "round $r: tiles supercluster ${sct} ms, mapcluster ${gt} ms ($(echo "scale=2; $sct/$gt" | bc)x) | views supercluster ${scv} ms, mapcluster ${gv} ms ($(echo "scale=2; $scv/$gv" | bc)x)"
done
echo "features returned: supercluster $(echo "$sc" | sed -E 's/.*"tile_features":([0-9]+).*"view_features":([0-9]+).*/tiles \1, views \2/'), mapcluster tiles $(echo "$go" | awk '/tiles/{for(i=1;i<=NF;i++) if($(i+1)=="features") print $i}'), views $(echo "$go" | awk '/views/{for(i=1;i<=NF;i++) if($(i+1)=="features") print $i}')"
