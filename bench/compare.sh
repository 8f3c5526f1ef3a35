#!/usr/bin/env bash
# Compare tokenward with gitleaks on the same corpus: wall time, MB/s, peak RSS,
# findings, and tokenward's start-up time. Usage:
#   bash bench/compare.sh [CORPUS_DIR]     (default: a copy of $(go env GOROOT)/src)
# Needs /usr/bin/time (Debian package "time"); installs gitleaks v8.30.1 with the
# gore2regex tag (as its release builds are made) when it is not on PATH.
set -euo pipefail
export PATH="$PATH:$(go env GOPATH)/bin"
source "$(dirname "$0")/setup.sh"
command -v gitleaks >/dev/null || go install -tags gore2regex github.com/zricethezav/gitleaks/v8@v8.30.1

bytes=$(du -sb "$corpus" | cut -f1)
mb=$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(free -g | awk '/Mem/{print $2}') GiB"
echo "corpus:  $corpus ($mb MB)"

# measure NAME CMD...: prints wall seconds and peak RSS (KB) of the best of 3 runs.
measure() {
  local name=$1; shift
  local best_wall=999999 best_rss=0
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || true
    read -r wall rss < <(tail -n 1 "$work/t") || { cat "$work/err"; exit 1; }
    if awk -v a="$wall" -v b="$best_wall" 'BEGIN{exit !(a<b)}'; then best_wall=$wall; best_rss=$rss; fi
  done
  echo "$name $best_wall $best_rss"
}

tw=$(measure tokenward "$work/tokenward" scan "$corpus" --skip-binary --max-archive-depth 0 --format json --output "$work/tw.json")
# The defaults read more than gitleaks dir does: archives opened, binaries as
# their printable runs.
twd=$(measure tokenward-all "$work/tokenward" scan "$corpus" --format json --output "$work/twd.json")
gl=$(measure gitleaks gitleaks dir "$corpus" --no-banner --log-level error --report-format json --report-path "$work/gl.json")
twn=$(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))))" "$work/tw.json" 2>/dev/null || echo "?")
twdn=$(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))))" "$work/twd.json" 2>/dev/null || echo "?")
gln=$(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))))" "$work/gl.json" 2>/dev/null || echo "?")

echo "tokenward: --skip-binary --max-archive-depth 0 (what gitleaks dir reads); tokenward-all: the defaults"
printf "%-10s %8s %9s %10s %9s\n" tool wall_s MB/s peak_RSS findings
read -r _ tww twr <<<"$tw"; read -r _ glw glr <<<"$gl"; read -r _ twdw twdr <<<"$twd"
printf "%-10s %8s %9.1f %7d MB %9s\n" tokenward "$tww" "$(awk -v m="$mb" -v w="$tww" 'BEGIN{print m/w}')" $((twr/1024)) "$twn"
printf "%-10s %8s %9s %7d MB %9s\n" tokenward-all "$twdw" "-" $((twdr/1024)) "$twdn"
printf "%-10s %8s %9.1f %7d MB %9s\n" gitleaks "$glw" "$(awk -v m="$mb" -v w="$glw" 'BEGIN{print m/w}')" $((glr/1024)) "$gln"
echo "speed-up: $(awk -v a="$glw" -v b="$tww" 'BEGIN{printf "%.1fx", a/b}')"

# Start-up: an empty directory with every built-in rule, median of 21 runs.
mkdir -p "$work/empty"
# $EPOCHREALTIME (bash 5) reads the clock without starting a process: $(date)
# would add two forks per run to what is measured.
for _ in $(seq 21); do
  s=$EPOCHREALTIME; "$work/tokenward" scan "$work/empty" >/dev/null; e=$EPOCHREALTIME
  awk -v s="$s" -v e="$e" 'BEGIN{printf "%d\n", (e - s) * 1e6}'
done | sort -n | awk '{a[NR]=$1} END{printf "start-up (empty dir, all built-in rules): median %.1f ms, min %.1f ms\n", a[11]/1000, a[1]/1000}'
