#!/usr/bin/env bash
# Builds tokenward for the GitHub Action (action.yml) from the action's own
# checkout, without touching the caller's Go: no actions/setup-go (which would put
# its Go first on PATH for every later step of the job), nothing written to
# $GITHUB_ENV or $GITHUB_PATH, and GOTOOLCHAIN, GOFLAGS and CGO_ENABLED set for
# this script's own go only.
#
#   build.sh key     print key=… to $GITHUB_OUTPUT (and stdout): the cache key of
#                    the binary, a hash of every file the build reads
#   build.sh build   build $TOKENWARD_BIN_DIR/tokenward unless the cache restored it
#
# Environment: TOKENWARD_BIN_DIR (default: $RUNNER_TEMP/tokenward-bin), ACTION_REF
# (github.action_ref: the tag or commit the caller pinned; becomes the version),
# RUNNER_OS and RUNNER_ARCH (part of the key).
#
# The go that builds is the runner's `go` (GitHub's hosted runners have one on
# PATH); when it is older than go.mod's version, GOTOOLCHAIN=auto fetches the
# required toolchain through the Go module proxy, for this build only.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=${TOKENWARD_BIN_DIR:-${RUNNER_TEMP:-/tmp}/tokenward-bin}

fail() {
	echo "::error title=tokenward::$*"
	exit 2
}

# sources lists, NUL-separated and sorted, the files `go build ./cmd/tokenward` can read.
sources() {
	(cd "$src" && find . -type f \( \( -name '*.go' ! -name '*_test.go' \) -o -name go.mod -o -name go.sum -o -path './rules/builtin/*' \) \
		! -path './.git/*' ! -path '*/testdata/*' -print0 | LC_ALL=C sort -z)
}

case ${1:-} in
key)
	command -v sha256sum >/dev/null || fail "sha256sum is missing on the runner"
	hash=$(cd "$src" && sources | xargs -0 sha256sum | sha256sum | cut -c1-32)
	key="tokenward-bin-v1-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$hash"
	echo "key=$key"
	if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "key=$key" >>"$GITHUB_OUTPUT"; fi
	;;
build)
	if [ -x "$bin_dir/tokenward" ] && "$bin_dir/tokenward" version >/dev/null 2>&1; then
		echo "tokenward: using the cached binary ($("$bin_dir/tokenward" version))"
		exit 0
	fi
	command -v go >/dev/null || fail "the tokenward action builds from source and needs a go command on PATH (any Go 1.21 or newer: a newer toolchain is fetched automatically); add actions/setup-go before it"
	mkdir -p "$bin_dir"
	(
		cd "$src"
		export GOTOOLCHAIN=auto CGO_ENABLED=0 GOFLAGS="-mod=readonly -modcacherw -buildvcs=false"
		go build -trimpath -ldflags "-s -w -X main.version=${ACTION_REF:-action}" -o "$bin_dir/tokenward" ./cmd/tokenward
	) || fail "building tokenward failed (see above)"
	echo "tokenward: built $("$bin_dir/tokenward" version)"
	;;
*)
	echo "usage: build.sh key|build" >&2
	exit 2
	;;
esac
