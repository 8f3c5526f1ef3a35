#!/usr/bin/env bash
# Entry point of the tokenward GitHub Action (action.yml at the repository root).
#
# It scans what the triggering event adds to the repository checked out in
# $GITHUB_WORKSPACE, writes SARIF, prints GitHub annotations, and fails when a new
# finding is at least as severe as fail-on-severity.
#
#   pull_request, pull_request_target   base.sha..head.sha (the pull request's commits)
#   merge_group                         base_sha..head_sha
#   push                                before..after; a new branch (before = 0000…):
#                                       the commits not on the default branch; a new
#                                       default branch: its whole history; before =
#                                       after or a deleted branch: nothing
#   workflow_dispatch, schedule, other  the full history
#
# Inputs arrive as environment variables (never interpolated into the script):
#   INPUT_ARGS              extra arguments for `tokenward git` (shell-quoted words)
#   INPUT_CONFIG            --config FILE (tokenward TOML or a gitleaks configuration)
#   INPUT_BASELINE          --baseline FILE
#   INPUT_FAIL_ON_SEVERITY  critical|high|medium|low|info (default: info, any finding) or none
#   INPUT_SARIF_FILE        where to write SARIF (default: tokenward.sarif)
#   TOKENWARD               the tokenward binary (default: tokenward on PATH)
# Outputs ($GITHUB_OUTPUT): sarif-file, findings (unsuppressed findings),
# failing (findings at or above fail-on-severity).
#
# Exit status: 0 clean (or only findings below the threshold), 1 failing findings,
# 2 a scan or setup error.
set -uo pipefail

tw=${TOKENWARD:-tokenward}
event=${GITHUB_EVENT_NAME:-}
payload=${GITHUB_EVENT_PATH:-}
sarif=${INPUT_SARIF_FILE:-tokenward.sarif}
threshold=${INPUT_FAIL_ON_SEVERITY:-info}
zero=0000000000000000000000000000000000000000
severities=(critical high medium low info)

notice() { echo "::notice title=tokenward::$*"; }
warn() { echo "::warning title=tokenward::$*"; }
die() {
	echo "::error title=tokenward::$*"
	exit 2
}

# json_tool reads the event payload: jq, else python3.
json_tool=${TOKENWARD_JSON_TOOL:-}
if [ -z "$json_tool" ]; then
	if command -v jq >/dev/null 2>&1; then
		json_tool=jq
	elif command -v python3 >/dev/null 2>&1; then
		json_tool=python3
	else
		die "reading the event payload needs jq or python3 on the runner"
	fi
fi

# field PATH prints a value of the event payload ("" when absent, null or false).
field() {
	[ -n "$payload" ] && [ -f "$payload" ] || return 0
	case $json_tool in
	jq) jq -r "($1) // empty | tostring" "$payload" ;;
	python3)
		python3 - "$payload" "$1" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].lstrip(".").split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None or v is False else ("true" if v is True else v))
PY
		;;
	esac
}

rank() {
	local i
	for i in "${!severities[@]}"; do
		if [ "${severities[$i]}" = "$1" ]; then
			echo "$i"
			return
		fi
	done
	echo -1
}

case $threshold in
none) limit=-1 ;;
*)
	limit=$(rank "$threshold")
	[ "$limit" -ge 0 ] || die "fail-on-severity: \"$threshold\" is not one of ${severities[*]} or none"
	;;
esac

cd "${GITHUB_WORKSPACE:-.}" || die "cannot enter the workspace ${GITHUB_WORKSPACE:-.}"
git rev-parse --git-dir >/dev/null 2>&1 || die "$(pwd) is not a git repository: run actions/checkout (with fetch-depth: 0) before tokenward"

# unshallow fetches the history a shallow checkout lacks.
unshallow() {
	if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
		notice "the checkout is shallow; fetching its history (use actions/checkout with fetch-depth: 0 to skip this)"
		git fetch --quiet --no-tags --unshallow origin ||
			warn "could not fetch the full history; the scan reports what it could not reach"
	fi
}

# have SHA: is the commit in the repository? Fetches it from origin if not
# (a fork's head commit is reachable on the base repository through its pull ref).
have() {
	git cat-file -e "$1^{commit}" 2>/dev/null && return 0
	git fetch --quiet --no-tags origin "$1" 2>/dev/null
	git cat-file -e "$1^{commit}" 2>/dev/null
}

mode=range
rng=
what=
case $event in
pull_request | pull_request_target)
	base=$(field .pull_request.base.sha)
	head=$(field .pull_request.head.sha)
	[ -n "$base" ] && [ -n "$head" ] || die "the $event payload has no pull_request.base.sha/head.sha"
	rng="$base..$head"
	what="pull request #$(field .pull_request.number): $rng"
	;;
merge_group)
	base=$(field .merge_group.base_sha)
	head=$(field .merge_group.head_sha)
	[ -n "$base" ] && [ -n "$head" ] || die "the merge_group payload has no base_sha/head_sha"
	rng="$base..$head"
	what="merge group: $rng"
	;;
push)
	before=$(field .before)
	after=$(field .after)
	ref=$(field .ref)
	ref=${ref:-${GITHUB_REF:-}}
	default=$(field .repository.default_branch)
	if [ "$(field .deleted)" = true ] || [ -z "$after" ] || [ "$after" = "$zero" ]; then
		mode=none
		what="push deleting $ref: nothing to scan"
	elif [ "$before" = "$after" ]; then
		mode=none
		what="push of $ref adds no commits ($after): nothing to scan"
	elif [ -z "$before" ] || [ "$before" = "$zero" ]; then
		if [ -z "$default" ] || [ "$ref" = "refs/heads/$default" ]; then
			mode=full
			what="push creating $ref: its whole history"
		else
			# A new branch: what it adds to the default branch.
			if ! git rev-parse --verify --quiet "refs/remotes/origin/$default^{commit}" >/dev/null; then
				git fetch --quiet --no-tags origin "+refs/heads/$default:refs/remotes/origin/$default" 2>/dev/null
			fi
			if git rev-parse --verify --quiet "refs/remotes/origin/$default^{commit}" >/dev/null; then
				rng="refs/remotes/origin/$default..$after"
				what="push creating $ref: the commits not on $default ($rng)"
			else
				warn "could not fetch the default branch $default; scanning the whole history of $ref"
				mode=full
				what="push creating $ref: its whole history"
			fi
		fi
	else
		rng="$before..$after"
		what="push to $ref: $rng"
	fi
	;;
workflow_dispatch | schedule)
	mode=full
	what="$event: the full history"
	;;
*)
	mode=full
	what="${event:-no event}: the full history"
	notice "event \"$event\" has no commit range; scanning the full history"
	;;
esac

if [ "$mode" != none ]; then
	unshallow
fi
if [ "$mode" = range ]; then
	for sha in "${rng%%..*}" "${rng##*..}"; do
		have "$sha" || die "commit $sha is not in the checkout and could not be fetched: use actions/checkout with fetch-depth: 0"
	done
fi
if [ "$mode" = none ]; then
	rng="HEAD..HEAD" # an empty range still writes a valid, empty SARIF report
fi

# at_base FILE prints the path to use for an input file. For a range, the file
# as the range's BASE holds it (copied out under the same name), so the commits
# under review cannot rewrite the configuration or baseline they are checked
# against, as tokenward git --range does for .tokenward.toml and
# .tokenwardignore; a file BASE does not hold is used from the checkout.
at_base() {
	local base dir
	base=${rng%%..*}
	if [ "$mode" != range ] || ! git cat-file -e "$base:$1" 2>/dev/null; then
		printf '%s' "$1"
		return
	fi
	dir=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tokenward-base.XXXXXX") || die "cannot create a temporary directory"
	git show "$base:$1" >"$dir/$(basename -- "$1")" || die "cannot read $1 at $base"
	printf '%s' "$dir/$(basename -- "$1")"
}

args=(git)
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$(at_base "$INPUT_CONFIG")")
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$(at_base "$INPUT_BASELINE")")
[ -n "$rng" ] && args+=(--range "$rng")
if [ -n "${INPUT_ARGS:-}" ]; then
	# xargs splits shell-quoted words without evaluating anything.
	split() { printf '%s\n' "$INPUT_ARGS" | xargs -n1 printf '%s\0'; }
	split >/dev/null 2>&1 || die "args: cannot split \"$INPUT_ARGS\" into words (unbalanced quotes?)"
	while IFS= read -r -d '' w; do args+=("$w"); done < <(split)
fi

echo "tokenward: scanning $what"
mkdir -p "$(dirname "$sarif")"
# One scan: annotations (--format github) on stdout, SARIF written alongside.
annotations=$(mktemp "${RUNNER_TEMP:-/tmp}/tokenward-annotations.XXXXXX")
"$tw" "${args[@]}" --format github --also-write "sarif=$sarif" >"$annotations"
rc=$?
case $rc in
0 | 1) ;;
2) echo "::error title=tokenward::the scan failed or is incomplete (see the log above); $sarif holds what was found" ;;
*)
	rm -f "$annotations"
	die "tokenward exited with status $rc"
	;;
esac
cat "$annotations"

# The severities of the annotations decide the outcome.
total=0
failing=0
count=(0 0 0 0 0) # per severity rank (bash 3 has no associative arrays)
while IFS= read -r sev; do
	total=$((total + 1))
	r=$(rank "$sev")
	count[r]=$((count[r] + 1))
	if [ "$r" -le "$limit" ]; then failing=$((failing + 1)); fi
done < <(grep -oE ' \((critical|high|medium|low|info)\)::' "$annotations" | sed -E 's/^ \(([a-z]+)\)::$/\1/')
rm -f "$annotations"

breakdown=
for i in "${!severities[@]}"; do
	if [ "${count[i]}" -gt 0 ]; then breakdown+="${breakdown:+, }${count[i]} ${severities[i]}"; fi
done
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		echo "sarif-file=$sarif"
		echo "findings=$total"
		echo "failing=$failing"
	} >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	{
		echo "### tokenward"
		echo
		echo "Scanned $what."
		echo
		if [ "$total" = 0 ]; then
			echo "No new findings."
		else
			echo "**$total new finding(s)** ($breakdown); $failing at or above \`$threshold\`. Details: the annotations and $sarif."
		fi
	} >>"$GITHUB_STEP_SUMMARY"
fi

if [ "$rc" = 2 ]; then
	exit 2
fi
if [ "$failing" -gt 0 ]; then
	echo "tokenward: $total finding(s) ($breakdown), $failing at or above fail-on-severity $threshold"
	exit 1
fi
if [ "$total" -gt 0 ]; then
	echo "tokenward: $total finding(s) ($breakdown), none at or above fail-on-severity $threshold"
else
	echo "tokenward: no new findings"
fi
exit 0
