#!/usr/bin/env bash
# Before/after: one tokenward revision against another, in the same run.
#
#   bash bench/ab.sh BASE_REV [HEAD_REV]    (HEAD_REV default: the work tree)
#
# Builds both, then alternates them RUNS times (default 7) on each corpus:
#   dir  a copy of $(go env GOROOT)/src           (tokenward scan)
#   git  the bench/git/run.sh history, if built   (tokenward git)
# and prints the median wall time, median CPU time (user+sys) and the largest
# peak RSS of each. AFTER_ARGS are added to the second revision's runs only
# (e.g. AFTER_ARGS="--skip-binary --max-archive-depth 0" reads what the first
# revision read, where it did not open archives or binaries). Alternating the two keeps a load that drifts during the run
# from favouring either; CPU time is the steadier figure on a busy machine.
set -euo pipefail
base=${1:?usage: bench/ab.sh BASE_REV [HEAD_REV]}
head=${2:-}
RUNS=${RUNS:-7}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

build() { # build REV OUT
  if [ -z "$1" ]; then go build -o "$2" ./cmd/tokenward; return; fi
  git worktree add -q --detach "$work/src-$(basename "$2")" "$1"
  (cd "$work/src-$(basename "$2")" && go build -o "$2" ./cmd/tokenward)
  git worktree remove --force "$work/src-$(basename "$2")"
}
build "$base" "$work/before"
build "$head" "$work/after"
cp -r "$(go env GOROOT)/src" "$work/corpus"
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "before: ${base}   after: ${head:-work tree} ${AFTER_ARGS:-}   runs: $RUNS, alternating"

# one NAME CMD...: appends "wall cpu rss" of one run to $work/NAME
one() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || true
  read -r wall user sys rss < <(tail -n 1 "$work/t")
  awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN{printf "%s %.2f %d\n", w, u+s, r}' >>"$work/$name"
}
summary() { # summary NAME
  sort -n -k1 "$work/$1" | awk '{w[NR]=$1} END{printf "wall %.2f s  ", w[int((NR+1)/2)]}'
  sort -n -k2 "$work/$1" | awk '{c[NR]=$2} END{printf "cpu %.2f s  ", c[int((NR+1)/2)]}'
  sort -n -k3 "$work/$1" | awk 'END{printf "peak RSS %d MB\n", $3/1024}'
}
bench() { # bench LABEL ARGS...
  local label=$1; shift
  : >"$work/b-$label"; : >"$work/a-$label"
  for _ in $(seq "$RUNS"); do
    one "b-$label" "$work/before" "$@"
    # shellcheck disable=SC2086
    one "a-$label" "$work/after" "$@" ${AFTER_ARGS:-}
  done
  printf "%-4s before: %s" "$label" "$(summary "b-$label")"; echo
  printf "%-4s after:  %s" "$label" "$(summary "a-$label")"; echo
}
bench dir scan "$work/corpus" --format json --output "$work/out.json"
gitrepo=${WORK:-/tmp/tokenward-bench-git}/repo
if [ -d "$gitrepo" ]; then
  bench git git "$gitrepo" --format json --output "$work/out.json"
else
  echo "git: no history at $gitrepo (build it with bash bench/git/run.sh)"
fi
