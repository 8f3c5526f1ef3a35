#!/usr/bin/env bash
# Catalogue cost (issue 3): the same directory scan with the seed + GitHub rules only
# and with every built-in rule, alternating, best CPU (user+sys) and wall of RUNS each.
#   bash bench/catalogue.sh [CORPUS_DIR]   (default: a copy of $(go env GOROOT)/src)
set -euo pipefail
RUNS=${RUNS:-5}
source "$(dirname "$0")/setup.sh"
{ printf '[extend]\nbuiltin = false\n\n'; cat rules/builtin/seed.toml rules/builtin/github.toml; } >"$work/seed.toml"
seed_rules=$("$work/tokenward" rules list --config "$work/seed.toml" 2>/dev/null | tail -n +2 | wc -l)
all_rules=$("$work/tokenward" rules list 2>/dev/null | tail -n +2 | wc -l)

declare -A best_cpu best_wall
for set in seed all; do best_cpu[$set]=999999; best_wall[$set]=999999; done
for _ in $(seq "$RUNS"); do
  for set in seed all; do
    args=()
    [ "$set" = seed ] && args=(--config "$work/seed.toml")
    /usr/bin/time -f "%e %U %S" -o "$work/t" "$work/tokenward" scan "$corpus" "${args[@]}" --format json --output "$work/out.json" >/dev/null 2>&1 || true
    read -r wall user sys < <(tail -n 1 "$work/t")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')
    awk -v a="$cpu" -v b="${best_cpu[$set]}" 'BEGIN{exit !(a<b)}' && best_cpu[$set]=$cpu
    awk -v a="$wall" -v b="${best_wall[$set]}" 'BEGIN{exit !(a<b)}' && best_wall[$set]=$wall
  done
done
printf '%-6s %6s %8s %8s\n' set rules cpu_s wall_s
printf '%-6s %6s %8s %8s\n' seed "$seed_rules" "${best_cpu[seed]}" "${best_wall[seed]}"
printf '%-6s %6s %8s %8s\n' all "$all_rules" "${best_cpu[all]}" "${best_wall[all]}"
awk -v s="${best_cpu[seed]}" -v a="${best_cpu[all]}" -v sw="${best_wall[seed]}" -v aw="${best_wall[all]}" \
  'BEGIN{printf "catalogue cost: +%.1f%% CPU, +%.1f%% wall (budget 20%%)\n", (a/s-1)*100, (aw/sw-1)*100}'
