#!/usr/bin/env bash
# Object-storage benchmark: $(go env GOROOT)/src (or CORPUS) uploaded as one
# bucket of the loopback fake S3 (bench/s3serve), then
#   1. tokenward s3 without a store (every object listed and read),
#   2. with --db, first run (every object read, results stored),
#   3. with --db again, nothing changed (listing only: no object read),
#   4. tokenward scan of the same files on disk, for comparison.
# Wall time and peak RSS from /usr/bin/time; the fake runs in its own process.
# Nothing leaves loopback: the endpoint is 127.0.0.1, credentials are static
# and fake, instance metadata is disabled, AWS config files are empty.
#
#   bench/s3.sh [CORPUS]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-$(go env GOROOT)/src}
WORK=${WORK:-/tmp/tokenward-bench-s3}
rm -rf "$WORK" && mkdir -p "$WORK/bin"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/tokenward" ./cmd/tokenward && go build -o "$WORK/bin/s3serve" ./bench/s3serve)

: >"$WORK/aws-config"
: >"$WORK/aws-credentials"
export AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE AWS_SECRET_ACCESS_KEY=fake-secret-for-loopback-bench AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 HTTPS_PROXY HTTP_PROXY

cd "$WORK" # no .tokenward.toml or .tokenwardignore of the current directory applies
coproc SERVE { exec "$WORK/bin/s3serve" corpus "$CORPUS"; }
read -r URL <&"${SERVE[0]}"
case $URL in http://127.0.0.1:*) ;; *) echo "s3serve: unexpected endpoint $URL" >&2; exit 1 ;; esac

run() { # run NAME LABEL ARGS...: findings as (path, line, column, rule) in NAME.txt
	local name=$1 label=$2
	shift 2
	/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" -o "$WORK/time" "$WORK/bin/tokenward" "$@" -f json -o "$WORK/out.json" 2>"$WORK/err" || true
	jq -r '.[] | "\(.file) \(.line) \(.column) \(.rule_id)"' "$WORK/out.json" | sed -e "s|^s3://corpus/||" -e "s|^$CORPUS/||" | sort >"$WORK/$name.txt"
	printf '%-32s %s, %s findings\n%-32s %s\n' "$label" "$(grep -v 'exited with' "$WORK/time")" "$(wc -l <"$WORK/$name.txt")" "" "$(grep -o 's3://corpus: .*' "$WORK/err" | head -1)"
}

S3=(s3 s3://corpus --endpoint-url "$URL" --path-style --progress none)
echo "corpus: $CORPUS ($(du -sh --apparent-size "$CORPUS" | cut -f1), $(find "$CORPUS" -type f | wc -l) files); $(nproc) cores; $(date -u +%FT%TZ)"
run s3 "s3, no store" "${S3[@]}"
run s3db1 "s3 --db, first run" "${S3[@]}" --db "$WORK/s3.db"
run s3db2 "s3 --db, unchanged" "${S3[@]}" --db "$WORK/s3.db"
run scan "scan of the same files on disk" scan "$CORPUS" --progress none
for n in s3 s3db1 s3db2; do
	cmp -s "$WORK/$n.txt" "$WORK/scan.txt" && echo "$n: the same findings as scan" || { echo "$n: findings differ from scan:"; diff "$WORK/$n.txt" "$WORK/scan.txt" | head; }
done
echo "(exit status 2 in every run: the corpus holds 8 deliberately broken archives, each named on stderr)"
exec {SERVE[1]}>&-
wait
