#!/usr/bin/env bash
# Git history benchmark: tokenward git vs gitleaks git.
#
# Builds a realistic history without network access beyond the Go module proxy:
# successive released versions of golang.org/x/tools (from the module cache, filled
# by `go mod download`) are committed into one repository, with tokens planted and
# removed along the way (one-line edits to large files, a side branch, a merge
# resolution, a commit message). Then it times both scanners on the packed
# repository and reports wall time, peak RSS and how many planted secrets each found.
#
#   bench/git/run.sh            # build (cached in $WORK) and measure
#   REBUILD=1 bench/git/run.sh  # rebuild the repository
#   RUNS=3 bench/git/run.sh     # best of N runs
#   CHURN=0 REBUILD=1 ...       # without the churn commits
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/tokenward-bench-git}
RUNS=${RUNS:-1}
CHURN=${CHURN:-300}
VERSIONS=${VERSIONS:-"v0.1.0 v0.1.1 v0.1.2 v0.1.3 v0.1.4 v0.1.5 v0.1.6 v0.1.7 v0.1.8 v0.1.9 v0.1.10 v0.1.11 v0.1.12 v0.2.0 v0.3.0 v0.4.0 v0.5.0 v0.6.0 v0.7.0 v0.8.0 v0.9.0 v0.9.1 v0.9.2 v0.9.3 v0.10.0 v0.11.0 v0.11.1 v0.12.0 v0.13.0 v0.14.0 v0.15.0 v0.16.0 v0.16.1 v0.17.0 v0.18.0 v0.19.0 v0.20.0 v0.21.0 v0.22.0 v0.23.0 v0.24.0 v0.24.1 v0.25.0 v0.25.1 v0.26.0 v0.27.0 v0.28.0 v0.29.0 v0.30.0 v0.31.0 v0.32.0 v0.33.0 v0.34.0 v0.35.0 v0.36.0 v0.37.0 v0.38.0 v0.39.0 v0.40.0 v0.41.0 v0.42.0 v0.43.0 v0.44.0 v0.45.0 v0.46.0 v0.47.0 v0.48.0 v0.49.0 v0.50.0 v0.51.0 v0.52.0"}
REPO=$WORK/repo
mkdir -p "$WORK/bin"

# Planted secrets: examples from tokenward's built-in rules (already public in this
# repository), in formats gitleaks' default rules also know.
TOKENS=(
	'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'
	'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'
	'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'
	'xoxb-11431453428-98314036948-1XjVmnDu5tuVlsguCWkam3lk'
	'xoxb-4858575710-72428247471-15mFBb8It7Ki0V1F1NtaoPIX'
	'xoxb-7391618910-46780648544-kBCbTFHe35p1zNCntGxfTqmb'
	'AKIAHGSNHTUMTLKOEQCN'
	'AKIAN7JQJLQ5R6EFB3IK'
	'glpat-QPMlaPnoYmWVcJhFaylu'
	'glpat-qGqEs0Pmqs8u5NGa_ShS'
	'glpat-iLuQd0ReE15mFBb8It7K'
)
line_for() { # a line that holds token $1 in a shape the rules expect
	case "$1" in
	ghp_*) echo "	// GITHUB_TOKEN=$1" ;;
	xoxb-*) echo "	// SLACK_BOT_TOKEN=$1" ;;
	AKIA*) echo "	// aws_access_key_id: $1" ;;
	glpat-*) echo "	// GITLAB_TOKEN=\"$1\"" ;;
	esac
}

export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
: >"$WORK/gitconfig"
export GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1
tick=1700000000
commit() { # commit -m ...
	tick=$((tick + 3600))
	GIT_AUTHOR_DATE="@$tick +0000" GIT_COMMITTER_DATE="@$tick +0000" git -C "$REPO" -c commit.gpgsign=false commit -q "$@"
}

# insert_line FILE LINE: put LINE in the middle of FILE
insert_line() {
	local n
	n=$(wc -l <"$1")
	awk -v n=$((n / 2)) -v l="$2" 'NR==n{print l} {print}' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

build() {
	rm -rf "$REPO"
	git init -q -b main "$REPO"
	local i=0 planted=0 v dir big
	for v in $VERSIONS; do
		dir=$(go mod download -json "golang.org/x/tools@$v" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -d "$dir" ] || { echo "go mod download golang.org/x/tools@$v failed" >&2; exit 2; }
		find "$REPO" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
		cp -R "$dir"/. "$REPO"/
		find "$REPO" -mindepth 1 -maxdepth 1 ! -name .git -exec chmod -R u+w {} +
		git -C "$REPO" add -A
		commit -m "import golang.org/x/tools $v"
		# Every 11th version: plant a token in the largest Go file, remove it next commit.
		if [ $((i % 11)) -eq 5 ] && [ $planted -lt 6 ]; then
			big=$(cd "$REPO" && find . -path ./.git -prune -o -name '*.go' -printf '%s %p\n' | sort -rn | awk 'NR==1{print $2}')
			cp "$REPO/$big" "$WORK/orig"
			insert_line "$REPO/$big" "$(line_for "${TOKENS[$planted]}")"
			git -C "$REPO" add -A && commit -m "debug: temporary credentials"
			cp "$WORK/orig" "$REPO/$big"
			git -C "$REPO" add -A && commit -m "remove temporary credentials"
			planted=$((planted + 1))
		fi
		i=$((i + 1))
	done
	# A token renamed with its file and then deleted.
	line_for "${TOKENS[6]}" >"$REPO/deploy.env"
	git -C "$REPO" add -A && commit -m "deploy settings"
	git -C "$REPO" mv deploy.env config.env && commit -m "rename"
	git -C "$REPO" rm -q config.env && commit -m "drop settings"
	# An unmerged branch.
	git -C "$REPO" checkout -q -b experiment
	line_for "${TOKENS[7]}" >>"$REPO/go.mod.notes"
	git -C "$REPO" add -A && commit -m "experiment"
	git -C "$REPO" checkout -q main
	# A merge whose conflict resolution adds a token.
	git -C "$REPO" checkout -q -b feature
	echo "setting = feature" >"$REPO/settings.txt"
	git -C "$REPO" add -A && commit -m "feature setting"
	git -C "$REPO" checkout -q main
	echo "setting = main" >"$REPO/settings.txt"
	git -C "$REPO" add -A && commit -m "main setting"
	git -C "$REPO" merge -q --no-edit feature >/dev/null 2>&1 || true
	line_for "${TOKENS[8]}" >"$REPO/settings.txt"
	git -C "$REPO" add -A && commit --no-edit
	# A token in a commit message.
	commit --allow-empty -m "rotate token ${TOKENS[9]}"
	# Churn: $CHURN commits that each insert one line into each of the five largest
	# Go files (what makes history expensive: every commit adds new versions of big
	# blobs whose changes are small); a token is planted and removed along the way.
	local files n f k
	files=$(cd "$REPO" && find . -path ./.git -prune -o -name '*.go' -printf '%s %p\n' | sort -rn | awk 'NR<=5{print $2}')
	for n in $(seq "$CHURN"); do
		for f in $files; do
			k=$(( (n * 7919) % $(wc -l <"$REPO/$f") + 1 ))
			sed -i "${k}i // churn $n" "$REPO/$f"
		done
		if [ "$n" -eq $((CHURN / 2)) ]; then
			set -- $files
			insert_line "$REPO/$1" "$(line_for "${TOKENS[10]}")"
		fi
		if [ "$n" -eq $((CHURN / 2 + 10)) ]; then
			set -- $files
			grep -vF "${TOKENS[10]}" "$REPO/$1" >"$WORK/tmp" && cp "$WORK/tmp" "$REPO/$1"
		fi
		git -C "$REPO" add -A && commit -m "regenerate $n"
	done
	git -C "$REPO" gc -q
}

if [ ! -d "$REPO/.git" ] || [ -n "${REBUILD:-}" ]; then
	echo "building $REPO from $(echo "$VERSIONS" | wc -w) versions of golang.org/x/tools ..." >&2
	build
fi

(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/tokenward" ./cmd/tokenward)
if [ ! -x "$WORK/bin/gitleaks" ]; then
	echo "installing gitleaks v8.30.1 ..." >&2
	GOBIN="$WORK/bin" go install -tags gore2regex github.com/zricethezav/gitleaks/v8@v8.30.1
fi

# measure NAME CMD...: best wall time of $RUNS runs, with that run's CPU seconds
# (user+sys) and peak RSS. CPU time is the steadier figure on a shared machine.
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
	echo "$name $best $rss $cpu"
}

found() { # found FILE: how many planted tokens FILE mentions
	local n=0 t
	for t in "${TOKENS[@]}"; do grep -qF "$t" "$1" && n=$((n + 1)); done
	echo $n
}

pack=$(du -sk "$REPO/.git/objects" | cut -f1)
blobs=$(git -C "$REPO" rev-list --all --objects | cut -d' ' -f1 | git -C "$REPO" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob"{n++; s+=$2} END{print n, s}')
commits=$(git -C "$REPO" rev-list --all | wc -l)
echo "repository: $commits commits, unique blobs/bytes: $blobs, .git/objects: ${pack} KiB" >&2

tw=$(measure tokenward "$WORK/bin/tokenward" git --show-secrets --format json --output "$WORK/tokenward.json" "$REPO")
twf=$(measure tokenward-full "$WORK/bin/tokenward" git --full-blobs --show-secrets --format json --output "$WORK/tokenward-full.json" "$REPO")
gl=$(measure gitleaks "$WORK/bin/gitleaks" git --no-banner --report-format json --report-path "$WORK/gitleaks.json" "$REPO")
twn=$(grep -c '"rule_id"' "$WORK/tokenward.json" || true)
twfn=$(grep -c '"rule_id"' "$WORK/tokenward-full.json" || true)
gln=$(grep -c '"RuleID"' "$WORK/gitleaks.json" || true)

printf '%-10s %8s %8s %12s %9s %14s\n' tool wall_s cpu_s peak_rss_MB findings planted_found
set -- $tw
printf '%-10s %8s %8s %12s %9s %11s/%d\n' tokenward "$2" "$4" $(($3 / 1024)) "$twn" "$(found "$WORK/tokenward.json")" ${#TOKENS[@]}
set -- $twf
printf '%-10s %8s %8s %12s %9s %11s/%d\n' "--full-blobs" "$2" "$4" $(($3 / 1024)) "$twfn" "$(found "$WORK/tokenward-full.json")" ${#TOKENS[@]}
set -- $gl
printf '%-10s %8s %8s %12s %9s %11s/%d\n' gitleaks "$2" "$4" $(($3 / 1024)) "$gln" "$(found "$WORK/gitleaks.json")" ${#TOKENS[@]}

# Pre-commit: a one-line staged change in this repository (history is not read).
f=$(git -C "$REPO" ls-files '*.go' | awk 'NR==1')
echo "// staged change" >>"$REPO/$f"
git -C "$REPO" add "$f"
st=$(measure staged "$WORK/bin/tokenward" git --staged "$REPO")
git -C "$REPO" reset -q --hard HEAD
set -- $st
echo "tokenward git --staged (one-line change, $(git -C "$REPO" ls-files | wc -l) files): ${2}s wall, $(($3 / 1024)) MB"

# Pre-commit in a large repository: $(go env GOROOT)/src as one commit (~11k
# files), a one-line change staged; median of 21 runs of the whole command.
BIG=$WORK/bigrepo
if [ ! -d "$BIG/.git" ]; then
	rm -rf "$BIG" && cp -r "$(go env GOROOT)/src" "$BIG"
	git -C "$BIG" init -q -b main
	git -C "$BIG" -c gc.auto=0 add -A
	git -C "$BIG" -c gc.auto=0 -c user.name=bench -c user.email=bench@example.com commit -q -m src
	git -C "$BIG" gc -q
fi
f=$(git -C "$BIG" ls-files 'net/http/server.go')
echo "// staged change" >>"$BIG/$f"
git -C "$BIG" -c gc.auto=0 add "$f"
for _ in $(seq 21); do
	s=$(date +%s%N); "$WORK/bin/tokenward" git --staged "$BIG" >/dev/null; e=$(date +%s%N)
	echo $(((e - s) / 1000))
done | sort -n | awk -v n="$(git -C "$BIG" ls-files | wc -l)" '{a[NR]=$1} END{printf "tokenward git --staged (one-line change, %d files): median %.1f ms, min %.1f ms of 21 runs\n", n, a[11]/1000, a[1]/1000}'
git -C "$BIG" reset -q --hard HEAD
