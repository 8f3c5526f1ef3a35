#!/usr/bin/env bash
# History at scale (issue 14): tokenward git, tokenward git --full-blobs and gitleaks
# on two large histories built from the Go module proxy only (no other network).
#
#   nats    every version of github.com/nats-io/nats-server/v2 the proxy lists, each
#           version's changed files committed one file per commit and each change
#           split into up to $NATS_STEPS (8) commits (a long history of large,
#           often-edited Go files, as in nats-server's own repository).
#   vendor  a program vendoring github.com/aws/aws-sdk-go across $VENDOR_VERSIONS (80)
#           releases (`go mod vendor`, one commit per release plus five small ones
#           between): multi-MB generated files (service/*/api.go) that change in most
#           releases, as in repositories that commit vendor trees (rancher).
#   rancher a synthetic history shaped like rancher's (26.9k commits, 100k blobs, 1.7 GiB
#           of versions): $RANCHER_COMMITS (25000) commits from modules already in the
#           module cache (those tokenward and gitleaks build with, and the releases of
#           golang.org/x/sys from v0.30.0 to v0.49.0: fetched through the proxy when
#           missing): app/ code (go-git, go-github, x/net, x/tools) edited a little in
#           most commits, vendor/ trees (modernc.org/libc, x/text, x/crypto, ...) moved
#           to their next release at vendor bumps every $RANCHER_BUMP (100) commits,
#           with $RANCHER_GEN (6) generated ~2 MB deepcopy files changing at each bump
#           (bench/git/histgen -synth).
#
# The histories are written by bench/git/histgen (git fast-import) and packed with
# `git repack -adf --depth=50 --window=10`. Tokens (examples from the built-in rules)
# are planted along the way (see histgen): after a long line in a version stored as a
# delta, renamed, on a side branch, by a merge, in a commit message.
#
#   bench/git/history.sh [nats|vendor|rancher|all]   # build (cached in $WORK) and measure
#   BEFORE=BINARY ...                         # time another tokenward build too (before/after)
#   REBUILD=1 ...                             # rebuild the repositories
#   NATS_VERSIONS=40 VENDOR_VERSIONS=20 ...   # smaller corpora (default: all / 80)
#   NATS_STEPS=2 ...                          # fewer commits per changed file
#   RUNS=3 ...                                # best of N runs
#   SKIP_GITLEAKS=1 ...                       # tokenward only
#   BUILD_ONLY=1 ...                          # build the repositories, measure nothing
#
# Prints, per repository and tool: wall s, CPU s (user+sys), peak RSS (MB, from
# /usr/bin/time -v), findings, and whether tokenward's (fingerprint, commit, path,
# line) set equals --full-blobs'.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/tokenward-bench-history}
RUNS=${RUNS:-1}
WHICH=${1:-all}
mkdir -p "$WORK/bin"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
: >"$WORK/gitconfig"
export GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1

moddir() { # moddir MODULE@VERSION: its directory in the module cache (downloading it)
	go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# fill REPO DIR...: a fresh repository holding histgen's history of the snapshots,
# packed as `git gc` would after a full repack (deltas recomputed, depth 50).
fill() {
	local repo=$1
	shift
	rm -rf "$repo" && git init -q -b main "$repo"
	"$WORK/bin/histgen" "$@" | git -C "$repo" fast-import --quiet
	git -C "$repo" checkout -q main
	git -C "$repo" repack -q -adf --depth=50 --window=10
	git -C "$repo" prune-packed
}

build_nats() {
	local v dirs=()
	for v in $(GOFLAGS=-mod=mod go list -m -versions github.com/nats-io/nats-server/v2 | tr ' ' '\n' | tail -n +2 | head -n "${NATS_VERSIONS:-1000}"); do
		dirs+=("$(moddir "github.com/nats-io/nats-server/v2@$v")")
		[ -d "${dirs[-1]}" ] || { echo "go mod download nats-server $v failed" >&2; exit 2; }
	done
	fill "$WORK/nats" -steps "${NATS_STEPS:-8}" -plant 12 "${dirs[@]}"
}

VENDOR_SERVICES="ec2 s3 iam rds dynamodb lambda sqs sns cloudformation autoscaling elb elbv2 kms route53 ecs eks sts ssm cloudwatch cloudwatchlogs glue sagemaker"
# build_vendor: a program vendoring aws-sdk-go, one snapshot per release (go.mod,
# go.sum, main.go and `go mod vendor`), committed whole with small commits between.
build_vendor() {
	local prog=$WORK/vendor-prog trees=$WORK/vendor-trees v s dirs=()
	mkdir -p "$prog" "$trees"
	{
		echo "package main"
		echo
		echo "import ("
		for s in $VENDOR_SERVICES; do echo "	_ \"github.com/aws/aws-sdk-go/service/$s\""; done
		echo ")"
		echo
		echo "func main() {}"
	} >"$prog/main.go"
	for v in $(GOFLAGS=-mod=mod go list -m -versions github.com/aws/aws-sdk-go | tr ' ' '\n' | grep '^v1\.44\.' | head -n "${VENDOR_VERSIONS:-80}"); do
		if [ ! -d "$trees/$v" ]; then
			(
				cd "$prog"
				printf 'module example.com/vendorbench\n\ngo 1.21\n\nrequire github.com/aws/aws-sdk-go %s\n' "$v" >go.mod
				rm -f go.sum && GOFLAGS=-mod=mod go mod tidy >/dev/null
				rm -rf vendor && GOFLAGS=-mod=mod go mod vendor
			)
			mkdir -p "$trees/$v.tmp" && cp -R "$prog"/. "$trees/$v.tmp"/ && mv "$trees/$v.tmp" "$trees/$v"
			# The module's extracted copy is not needed any more (its zip stays cached).
			chmod -R u+w "$(go env GOMODCACHE)/github.com/aws/aws-sdk-go@$v" && rm -rf "$(go env GOMODCACHE)/github.com/aws/aws-sdk-go@$v"
		fi
		dirs+=("$trees/$v")
	done
	fill "$WORK/vendor" -steps 0 -between 5 -plant 10 "${dirs[@]}"
}

RANCHER_APPS="github.com/go-git/go-git/v5@v5.19.3 github.com/google/go-github/v66@v66.0.0 golang.org/x/net@v0.61.0 golang.org/x/tools@v0.52.0"
RANCHER_VENDOR="modernc.org/libc@v1.79.0 golang.org/x/text@v0.22.0 golang.org/x/crypto@v0.35.0 golang.org/x/crypto@v0.58.0
github.com/klauspost/compress@v1.17.11 github.com/klauspost/compress@v1.20.4 github.com/spf13/cobra@v1.9.1 github.com/spf13/cobra@v1.10.2
github.com/spf13/pflag@v1.0.6 github.com/spf13/pflag@v1.0.9 github.com/ulikunitz/xz@v0.5.12 github.com/ulikunitz/xz@v0.5.17
dario.cat/mergo@v1.0.0 dario.cat/mergo@v1.0.1 golang.org/x/sync@v0.11.0 golang.org/x/sync@v0.24.0 github.com/BurntSushi/toml@v1.6.0
github.com/go-git/go-billy/v5@v5.9.2 github.com/ProtonMail/go-crypto@v1.1.6 github.com/cloudflare/circl@v1.6.3"
build_rancher() {
	local m dirs=()
	for m in $RANCHER_APPS $RANCHER_VENDOR $(seq -f 'golang.org/x/sys@v0.%g.0' 30 49); do
		dirs+=("$(moddir "$m")")
		[ -d "${dirs[-1]}" ] || { echo "go mod download $m failed" >&2; exit 2; }
	done
	fill "$WORK/rancher" -synth "${RANCHER_COMMITS:-25000}" -apps 4 -gen "${RANCHER_GEN:-6}" -gensize $((2 << 20)) \
		-bump "${RANCHER_BUMP:-100}" -plant 40 "${dirs[@]}"
}

(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/histgen" ./bench/git/histgen)
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/tokenward" ./cmd/tokenward)
if [ -z "${SKIP_GITLEAKS:-}" ] && [ ! -x "$WORK/bin/gitleaks" ]; then
	echo "installing gitleaks v8.30.1 ..." >&2
	GOBIN="$WORK/bin" go install -tags gore2regex github.com/zricethezav/gitleaks/v8@v8.30.1
fi

# measure NAME CMD...: best wall time of $RUNS runs with that run's CPU s and peak RSS KB.
measure() {
	local name=$1 best="" rss="" cpu="" r wall kb c
	shift
	for r in $(seq "$RUNS"); do
		/usr/bin/time -v "$@" >/dev/null 2>"$WORK/$name.time" || true
		wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/$name.time" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
		kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$name.time")
		c=$(awk -F': ' '/User time|System time/{s+=$2} END{printf "%.2f", s}' "$WORK/$name.time")
		if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall rss=$kb cpu=$c; fi
	done
	echo "$best $cpu $((rss / 1024))"
}
locations() { # the (fingerprint, commit, path, line) set of a JSON report, sorted
	jq -r '.[] | [.fingerprint, .commit, .file, .line] | @tsv' "$1" | sort -u
}

run() {
	local name=$1 repo=$WORK/$1
	if [ ! -d "$repo/.git" ] || [ -n "${REBUILD:-}" ]; then
		echo "building $repo ..." >&2
		"build_$name"
	fi
	local blobs commits pack
	blobs=$(git -C "$repo" rev-list --all --objects | cut -d' ' -f1 | git -C "$repo" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob"{n++; s+=$2} END{printf "%d blobs, %.2f GiB of versions", n, s/2^30}')
	commits=$(git -C "$repo" rev-list --all | wc -l)
	pack=$(du -sm "$repo/.git/objects" | cut -f1)
	[ -z "${BUILD_ONLY:-}" ] || return 0
	echo "== $name: $commits commits, $blobs, ${pack} MiB of objects"
	printf '%-22s %8s %8s %8s %9s %s\n' tool wall_s cpu_s rss_MB findings same_as_full
	local tw twf gl
	tw=$(measure "$name-tw" "$WORK/bin/tokenward" git --show-secrets --format json --output "$WORK/$name-tw.json" "$repo")
	local twb=""
	[ -z "${BEFORE:-}" ] || twb=$(measure "$name-before" "$BEFORE" git --show-secrets --format json --output "$WORK/$name-before.json" "$repo")
	twf=$(measure "$name-full" "$WORK/bin/tokenward" git --full-blobs --show-secrets --format json --output "$WORK/$name-full.json" "$repo")
	locations "$WORK/$name-tw.json" >"$WORK/$name-tw.loc"
	locations "$WORK/$name-full.json" >"$WORK/$name-full.loc"
	local same=no
	cmp -s "$WORK/$name-tw.loc" "$WORK/$name-full.loc" && same=yes
	printf '%-22s %8s %8s %8s %9s %s\n' "tokenward git" $tw "$(wc -l <"$WORK/$name-tw.loc")" "$same"
	if [ -n "$twb" ]; then
		locations "$WORK/$name-before.json" >"$WORK/$name-before.loc"
		local sameb=no
		cmp -s "$WORK/$name-before.loc" "$WORK/$name-full.loc" && sameb=yes
		printf '%-22s %8s %8s %8s %9s %s\n' "tokenward (before)" $twb "$(wc -l <"$WORK/$name-before.loc")" "$sameb"
	fi
	printf '%-22s %8s %8s %8s %9s\n' "tokenward --full-blobs" $twf "$(wc -l <"$WORK/$name-full.loc")"
	if [ -z "${SKIP_GITLEAKS:-}" ]; then
		gl=$(measure "$name-gl" "$WORK/bin/gitleaks" git --no-banner --log-level error --report-format json --report-path "$WORK/$name-gl.json" "$repo")
		printf '%-22s %8s %8s %8s %9s\n' "gitleaks git" $gl "$(jq length "$WORK/$name-gl.json")"
	fi
	if [ "$same" = no ]; then
		echo "differences (< only in tokenward git, > only in --full-blobs):"
		diff "$WORK/$name-tw.loc" "$WORK/$name-full.loc" | grep '^[<>]' | cut -c1-160 | head -20 || true
	fi
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem/{print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
case $WHICH in
nats | vendor | rancher) run "$WHICH" ;;
all) run nats && run vendor && run rancher ;;
*) echo "usage: $0 [nats|vendor|rancher|all]" >&2; exit 2 ;;
esac
