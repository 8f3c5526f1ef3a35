#!/usr/bin/env bash
# Sweep benchmark: a first sweep of an "organisation" of generated repositories,
# then re-sweeps: unchanged, unchanged with --rescan (every repository walked,
# every blob taken from the store), and after new commits in a few repositories.
#
# Each repository is a Go standard library package from $(go env GOROOT)/src
# committed in steps (files added, edited, a secret planted and removed later),
# served as a bare repository over file:// and mirrored by tokenward into --cache.
#
#   bench/sweep.sh                 # 60 repositories
#   REPOS=200 bench/sweep.sh       # more
#   REBUILD=1 bench/sweep.sh       # regenerate the repositories
#   RUNS=3 bench/sweep.sh          # best of N for each re-sweep
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/tokenward-bench-sweep}
REPOS=${REPOS:-60}
RUNS=${RUNS:-1}
BIN=$WORK/bin/tokenward
mkdir -p "$WORK/bin"

export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
: >"$WORK/gitconfig"
export GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1
tick=1700000000
commit() { # commit DIR -m ...
	local d=$1
	shift
	tick=$((tick + 3600))
	GIT_AUTHOR_DATE="@$tick +0000" GIT_COMMITTER_DATE="@$tick +0000" git -C "$d" -c commit.gpgsign=false commit -q "$@"
}
token() { printf '%s' "$1" | sha1sum | cut -c1-40; }

# Packages with at least 5 non-test Go files, deterministic order.
packages() {
	local src
	src=$(go env GOROOT)/src
	find "$src" -type d \( -name testdata -o -name vendor \) -prune -o -type d -print | sort | while read -r d; do
		n=$(find "$d" -maxdepth 1 -name '*.go' ! -name '*_test.go' | wc -l)
		[ "$n" -ge 5 ] && echo "$d"
	done
}

build() {
	rm -rf "$WORK/repos" "$WORK/src"
	mkdir -p "$WORK/repos" "$WORK/src"
	local i=0 pkg name w files f n k
	while read -r pkg; do
		[ "$i" -ge "$REPOS" ] && break
		name=$(printf 'r%03d' "$i")
		w=$WORK/src/$name
		git init -q -b main "$w"
		mapfile -t files < <(find "$pkg" -maxdepth 1 -name '*.go' ! -name '*_test.go' | sort)
		n=${#files[@]}
		# Commit 1: half the files. Then one file per commit, an edit every
		# other commit, a secret planted in commit 3 and removed in commit 6.
		for ((k = 0; k < n / 2; k++)); do cp "${files[$k]}" "$w/"; done
		git -C "$w" add -A && commit "$w" -m "import $(basename "$pkg")"
		for ((k = n / 2; k < n; k++)); do
			cp "${files[$k]}" "$w/"
			if [ $((k % 2)) -eq 0 ]; then
				f=$(basename "${files[$((k / 2))]}")
				printf '\n// revision %d of %s\n' "$k" "$name" >>"$w/$f"
			fi
			if [ $((k - n / 2)) -eq 2 ]; then
				printf "curl -H 'Authorization: Token %s' https://api.example.com/v1/items\n" "$(token "$name")" >"$w/deploy.sh"
			fi
			if [ $((k - n / 2)) -eq 5 ]; then
				rm -f "$w/deploy.sh"
			fi
			git -C "$w" add -A && commit "$w" -m "add $(basename "${files[$k]}")"
		done
		git clone -q --bare "$w" "$WORK/repos/$name.git"
		i=$((i + 1))
	done < <(packages)
	[ "$i" -ge "$REPOS" ] || { echo "only $i packages with 5+ files in GOROOT; want REPOS=$REPOS" >&2; exit 2; }
	rm -rf "$WORK/src"
}

if [ ! -d "$WORK/repos" ] || [ "${REBUILD:-0}" = 1 ] || [ "$(ls "$WORK/repos" | wc -l)" -ne "$REPOS" ]; then
	echo "generating $REPOS repositories in $WORK/repos ..." >&2
	build
fi
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/tokenward)

ls -d "$WORK"/repos/*.git | sed 's|^|file://|' >"$WORK/repos.txt"
commits=0
blobs=0
for r in "$WORK"/repos/*.git; do
	commits=$((commits + $(git -C "$r" rev-list --all | wc -l)))
	blobs=$((blobs + $(git -C "$r" rev-list --all --objects | git -C "$r" cat-file --batch-check='%(objecttype) %(rest)' | grep -c '^blob' || true)))
done
size=$(du -sk "$WORK/repos" | cut -f1)

# sweep NAME [ARGS...]: run a sweep into $WORK/bench.db, print "seconds|summary".
sweep() {
	local start end line
	start=$(date +%s.%N)
	"$BIN" sweep --repos "$WORK/repos.txt" --db "$WORK/bench.db" --cache "$WORK/cache" --progress none --exit-code 0 "$@" 2>"$WORK/last.log" || {
		cat "$WORK/last.log" >&2
		exit 2
	}
	end=$(date +%s.%N)
	line=$(sed -n 's/^tokenward: sweep: //p' "$WORK/last.log" | tail -n 1)
	echo "$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}')|$line"
}
best() { # best of RUNS
	local b="" r
	for ((k = 0; k < RUNS; k++)); do
		r=$(sweep "$@")
		if [ -z "$b" ] || awk -v r="${r%%|*}" -v b="${b%%|*}" 'BEGIN{exit !(r < b)}'; then b=$r; fi
	done
	echo "$b"
}

rm -rf "$WORK/cache" "$WORK/bench.db" "$WORK/bench.db-wal" "$WORK/bench.db-shm"
first=$(sweep)
unchanged=$(best)
rescan=$(best --rescan)
# New commits in 5 repositories: a new file each, one with a new secret.
for n in 000 010 020 030 040; do
	w=$WORK/push-$n
	rm -rf "$w"
	git clone -q "$WORK/repos/r$n.git" "$w"
	printf 'package x\n\n// change %s\n' "$n" >"$w/change_$n.go"
	[ "$n" = 020 ] && printf "curl -H 'Authorization: Token %s' https://x\n" "$(token "new-$n")" >>"$w/change_$n.go"
	git -C "$w" add -A && commit "$w" -m "change" && git -C "$w" push -q origin HEAD
	rm -rf "$w"
done
changed=$(sweep)
# Undo the pushes for the next run of this script.
for n in 000 010 020 030 040; do
	git -C "$WORK/repos/r$n.git" update-ref refs/heads/main refs/heads/main~1
done

# The same as a GitHub organisation over git smart HTTP (git http-backend on
# loopback, with a GitHub-style listing): unchanged repositories cost nothing
# while the listing's pushed_at is the one seen at their last fetch, or one ref
# advertisement each with --refetch-after 0.
(cd "$ROOT" && go build -o "$WORK/bin/sweepserve" ./bench/sweepserve)
"$WORK/bin/sweepserve" "$WORK/repos" >"$WORK/serve.url" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$WORK/serve.url" ] && break; sleep 0.1; done
url=$(cat "$WORK/serve.url")
sweep_http() {
	local start end line
	start=$(date +%s.%N)
	"$BIN" sweep --github-org bench --github-api "$url" --db "$WORK/bench-http.db" --cache "$WORK/cache-http" --progress none --exit-code 0 "$@" 2>"$WORK/last.log" || {
		cat "$WORK/last.log" >&2
		exit 2
	}
	end=$(date +%s.%N)
	line=$(sed -n 's/^tokenward: sweep: //p' "$WORK/last.log" | tail -n 1)
	echo "$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}')|$line"
}
best_http() {
	local b="" r
	for ((k = 0; k < RUNS; k++)); do
		r=$(sweep_http "$@")
		if [ -z "$b" ] || awk -v r="${r%%|*}" -v b="${b%%|*}" 'BEGIN{exit !(r < b)}'; then b=$r; fi
	done
	echo "$b"
}
rm -rf "$WORK/cache-http" "$WORK"/bench-http.db*
http_first=$(sweep_http)
http_unchanged=$(best_http)
http_refetch=$(best_http --refetch-after 0)

ratio() { awk -v a="${1%%|*}" -v f="${first%%|*}" 'BEGIN{printf "%.1f", 100 * a / f}'; }
hratio() { awk -v a="${1%%|*}" -v f="${http_first%%|*}" 'BEGIN{printf "%.1f", 100 * a / f}'; }
cat <<EOF
## Sweeps

$(date -u +%Y-%m-%d), $(nproc) CPUs ($(uname -m)), $(go version | cut -d' ' -f3), bench/sweep.sh:
$REPOS repositories (Go standard library packages committed in steps, each with a
secret planted and removed), $commits commits, $blobs blobs, $((size / 1024)) MB of bare
repositories, served over file:// and mirrored into --cache.

| sweep | wall time | % of first | what it did |
|---|---:|---:|---|
| first (clone + scan) | ${first%%|*} s | 100 | ${first#*|} |
| unchanged re-sweep | ${unchanged%%|*} s | $(ratio "$unchanged") | ${unchanged#*|} |
| unchanged, --rescan | ${rescan%%|*} s | $(ratio "$rescan") | ${rescan#*|} |
| after 1 new commit in 5 repositories | ${changed%%|*} s | $(ratio "$changed") | ${changed#*|} |

The same repositories as a GitHub organisation (\`--github-org\` against a
GitHub-style listing with \`pushed_at\`, clones over git smart HTTP from
\`git http-backend\` on loopback, sharing the 2 CPUs):

| sweep | wall time | % of first | what it did |
|---|---:|---:|---|
| first (list + clone + scan) | ${http_first%%|*} s | 100 | ${http_first#*|} |
| unchanged re-sweep | ${http_unchanged%%|*} s | $(hratio "$http_unchanged") | ${http_unchanged#*|} |
| unchanged, --refetch-after 0 | ${http_refetch%%|*} s | $(hratio "$http_refetch") | ${http_refetch#*|} |
EOF
