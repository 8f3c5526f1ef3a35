# Sourced by the directory benchmarks (compare.sh, catalogue.sh) with the corpus
# argument as $1: moves to the repository root, makes a scratch directory $work
# (removed on exit), sets $corpus (the argument, or a copy of $(go env GOROOT)/src),
# makes sure /usr/bin/time is there and builds $work/tokenward.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpus=${1:-}
if [ -z "$corpus" ]; then
  corpus="$work/corpus"
  cp -r "$(go env GOROOT)/src" "$corpus"
fi
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
go build -o "$work/tokenward" ./cmd/tokenward
