#!/usr/bin/env bash
# Container image benchmark: tokenward image on an image built from the Go
# distribution ($(go env GOROOT), ~270 MB in ~15 000 files) spread over 8 gzip
# layers, with a GitHub token in a .env deleted by a ninth layer and in ENV.
# Times a docker save tarball and an OCI layout (wall, peak RSS), and a sweep
# run twice into one store (the second takes every layer from the store).
#
#   bench/image/run.sh          # build (cached in $WORK) and measure
#   REBUILD=1 bench/image/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/tokenward-bench-image}
mkdir -p "$WORK"
cd "$ROOT"
CGO_ENABLED=0 go build -o "$WORK/tokenward" ./cmd/tokenward
if [[ ! -f $WORK/go.tar || -n ${REBUILD:-} ]]; then
	rm -rf "$WORK/go.tar" "$WORK/layout"
	go run ./bench/image/imagegen -dir "$(go env GOROOT)" -layers 8 -tar "$WORK/go.tar" -layout "$WORK/layout"
fi
echo "image: $(du -h "$WORK/go.tar" | cut -f1) docker save tarball (gzip layers), $(nproc) cores"
run() { # label, args...
	local label=$1
	shift
	/usr/bin/time -f "$label: %e s wall, %U s user + %S s sys, %M KB peak RSS" "$WORK/tokenward" "$@" --exit-code 0 >"$WORK/out.txt" 2>"$WORK/err.txt" || true
	tail -n 1 "$WORK/err.txt"
	grep -E '^tokenward: [0-9]+ images' "$WORK/err.txt" || true
	grep -c 'deleted in layer-9' "$WORK/out.txt" | sed 's/^/  findings deleted in layer-9: /'
}
/usr/bin/time -f "scan GOROOT (the same files from disk): %e s wall, %U s user + %S s sys, %M KB peak RSS" "$WORK/tokenward" scan "$(go env GOROOT)" --progress none --exit-code 0 >/dev/null 2>"$WORK/err.txt" || true
tail -n 1 "$WORK/err.txt"
run "image go.tar" image "$WORK/go.tar" --stats --progress none
run "image layout" image "$WORK/layout" --stats --progress none
rm -f "$WORK/sweep.db"*
/usr/bin/time -f "sweep (cold store): %e s wall, %U s user + %S s sys, %M KB peak RSS" "$WORK/tokenward" sweep --images "$WORK/go.tar" --db "$WORK/sweep.db" --cache "$WORK/cache" --progress log --exit-code 0 2>&1 | grep -E 'image |wall' || true
/usr/bin/time -f "sweep (warm store): %e s wall, %U s user + %S s sys, %M KB peak RSS" "$WORK/tokenward" sweep --images "$WORK/go.tar" --db "$WORK/sweep.db" --cache "$WORK/cache" --progress log --exit-code 0 2>&1 | grep -E 'image |wall' || true
