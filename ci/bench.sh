#!/usr/bin/env bash
# bench.sh [DCHECK]: whole-command timings, on this machine, in one run.
#
#   dcheck scan -o json  vs  ps -eo pid,ppid,pgid,sid,tty,stat,comm
#   with N idle processes (default 2000) that are children of this script
#   (scan reads their stat and passes them by), then with N orphaned ones
#   that scan must judge in full. Target: scan at most 3x ps.
#
# Each command runs RUNS times (default 7); the median wall time is shown.
# Every process started here is stopped by pid on exit.
set -euo pipefail
dcheck=${1:-bin/dcheck}
N=${N:-2000}
RUNS=${RUNS:-7}
work=$(mktemp -d)
children=()
cleanup() {
  [ ${#children[@]} -gt 0 ] && kill "${children[@]}" 2>/dev/null || true
  [ -s "$work/orphans" ] && xargs kill <"$work/orphans" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# median_ms CMD...: run CMD RUNS times, print the median wall time in ms.
median_ms() {
  local times=() t0 t1
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { printf "%.1f", $1 / 1000 }'
}

row() { # row LABEL
  local scan ps
  scan=$(median_ms "$dcheck" scan -o json)
  ps=$(median_ms ps -eo pid,ppid,pgid,sid,tty,stat,comm)
  printf '%-34s %10s %10s %8s\n' "$1" "$scan" "$ps" "$(awk -v a="$scan" -v b="$ps" 'BEGIN { printf "%.2fx", a / b }')"
}

wait_for_count() { # wait until N processes of ours have exec'd sleep
  local want=$1 file=$2
  for _ in $(seq 1000); do
    [ "$(sed "s|.*|/proc/&/comm|" "$file" | xargs cat 2>/dev/null | grep -c "^sleep$")" -ge "$want" ] && return
    sleep 0.01
  done
  echo "bench.sh: processes did not start" >&2; exit 1
}

echo "dcheck bench on $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "processes on the host before: $(ls -d /proc/[0-9]* | wc -l)"
printf '%-34s %10s %10s %8s\n' "case (median of $RUNS, ms)" "scan" "ps" "ratio"
row "host as it is"

for _ in $(seq "$N"); do sleep 3600 </dev/null >/dev/null 2>&1 & children+=($!); done
printf '%s\n' "${children[@]}" >"$work/children"
wait_for_count "$N" "$work/children"
row "+$N children of this script"

kill "${children[@]}"; wait 2>/dev/null || true; children=()
setsid -w sh -c 'i=0; while [ $i -lt "$1" ]; do sleep 3600 </dev/null >/dev/null 2>&1 & echo $!; i=$((i+1)); done' sh "$N" >"$work/orphans"
wait_for_count "$N" "$work/orphans"
row "+$N orphans (all judged)"

echo
echo "dcheck scan -o json output with the orphans: $("$dcheck" scan -o json | wc -l) reports"
