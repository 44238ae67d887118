#!/usr/bin/env bash
# Regenerates cmd/mapcluster/default.pgo, the CPU profile that `go build` and
# `go run` use to optimise the mapcluster binary (profile-guided optimisation,
# on by default for a main package with a default.pgo). The profile comes from
# the benchmarks of the CLI's main jobs: clustering world-cities and 2M
# jittered points, and simplifying countries-10m (which needs ../shared/data;
# without it the profile covers clustering only).
#
#   bench/pgo.sh        (or: make pgo)
#
# Rerun it when the hot code changes a lot; an old profile still builds, it
# only optimises less. BENCHMARKS.md ("Profile-guided optimisation") has what
# it gained when it was added.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/cluster.test" ./cluster
go test -c -o "$work/simplify.test" ./simplify
(cd cluster && "$work/cluster.test" -test.run '^$' -test.bench 'BuildWorldCities$' -test.benchtime 40x -test.cpuprofile "$work/wc.prof" >/dev/null)
(cd cluster && MAPCLUSTER_BENCH_POINTS=2000000 "$work/cluster.test" -test.run '^$' -test.bench 'BuildJittered1M$' -test.benchtime 3x -test.cpuprofile "$work/2m.prof" >/dev/null)
profiles=("$work/wc.prof" "$work/2m.prof")
(cd simplify && "$work/simplify.test" -test.run '^$' -test.bench 'Build10m$' -test.benchtime 5x -test.cpuprofile "$work/simplify.prof" > "$work/simplify.out")
if grep -q '^Benchmark' "$work/simplify.out"; then
  profiles+=("$work/simplify.prof")
else
  echo "pgo: countries-10m not found; the profile covers clustering only" >&2
fi
go tool pprof -proto "${profiles[@]}" > cmd/mapcluster/default.pgo
echo "wrote cmd/mapcluster/default.pgo from ${#profiles[@]} profiles"
