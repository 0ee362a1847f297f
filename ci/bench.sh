#!/usr/bin/env bash
# bench.sh [DCHECK [GOODDAEMON]]: whole-command timings, on this machine, in one run.
#
#   gooddaemon start (two re-execs and the readiness handshake) and stop,
#   next to start-stop-daemon --start --background --make-pidfile of sleep
#   and its --stop: median of STARTS runs (default 30). Target: start to
#   ready under 10 ms.
#
#   dcheck scan -o json  vs  ps -eo pid,ppid,pgid,sid,tty,stat,comm
#   with N idle processes (default 2000) that are children of this script
#   (scan reads their stat and passes them by), then, for each count in
#   SCAN_NS (default "2000 10000"), with that many orphaned ones that scan
#   must judge in full. Target: scan at most 1x ps. And the CPU a fleet
#   scan costs (dcheck scan --textfile, user + system time) as a share of
#   one core when it runs every 60 s. Target: at most 0.5 % at 2,000.
#
# Each command runs RUNS times (default 7); the median wall time is shown.
# Every process started here is stopped by pid on exit.
set -euo pipefail
dcheck=${1:-bin/dcheck}
gooddaemon=${2:-bin/gooddaemon}
N=${N:-2000}
SCAN_NS=${SCAN_NS:-2000 10000}
STARTS=${STARTS:-30}
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

# median_of_ms FILE: the median of the microsecond figures in FILE, in ms.
median_of_ms() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] / 1000 }'; }

# time_us CMD...: run CMD once, print its wall time in microseconds.
time_us() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }

if command -v start-stop-daemon >/dev/null && [ -x "$gooddaemon" ]; then
  pf="$work/lat.pid"
  for _ in $(seq "$STARTS"); do
    time_us "$gooddaemon" start -pidfile "$pf" >>"$work/gd.start"
    time_us "$gooddaemon" stop -pidfile "$pf" >>"$work/gd.stop"
    time_us start-stop-daemon --start --background --make-pidfile --pidfile "$pf" --exec /bin/sleep -- 600 >>"$work/ssd.start"
    time_us start-stop-daemon --stop --pidfile "$pf" --remove-pidfile --retry TERM/5 >>"$work/ssd.stop"
    time_us /bin/true >>"$work/true"
    time_us "$gooddaemon" >>"$work/gd.usage"
  done
  gs=$(median_of_ms "$work/gd.start"); ss=$(median_of_ms "$work/ssd.start")
  gt=$(median_of_ms "$work/gd.stop"); st=$(median_of_ms "$work/ssd.stop")
  printf '%-34s %10s %10s %8s\n' "start/stop (median of $STARTS, ms)" "gooddaemon" "s-s-d" "ratio"
  printf '%-34s %10s %10s %8s\n' "start, until ready" "$gs" "$ss" "$(awk -v a="$gs" -v b="$ss" 'BEGIN { printf "%.2fx", a / b }')"
  printf '%-34s %10s %10s %8s\n' "stop, until exited" "$gt" "$st" "$(awk -v a="$gt" -v b="$st" 'BEGIN { printf "%.2fx", a / b }')"
  echo "floor: /bin/true $(median_of_ms "$work/true") ms; one gooddaemon process (usage, exit 2) $(median_of_ms "$work/gd.usage") ms; start runs three"
  for _ in $(seq 5); do
    time_us "$dcheck" verify --reload --pidfile "$work/v.pid" -- "$gooddaemon" start -pidfile "$work/v.pid" >>"$work/verify"
  done
  echo "dcheck verify of gooddaemon, the whole suite (median of 5): $(median_of_ms "$work/verify") ms (target: under 5000)"
  echo
fi

echo "processes on the host before: $(ls -d /proc/[0-9]* | wc -l)"
# The part of every scan that reads no process: starting the binary
# (the runtime, and the package initialisation of all that dcheck links:
# Ginkgo and Gomega for verify, client_golang, gopsutil).
echo "floor: dcheck version $(median_ms "$dcheck" version) ms; ps --version $(median_ms ps --version) ms"
printf '%-34s %10s %10s %8s\n' "case (median of $RUNS, ms)" "scan" "ps" "ratio"
row "host as it is"

for _ in $(seq "$N"); do sleep 3600 </dev/null >/dev/null 2>&1 & children+=($!); done
printf '%s\n' "${children[@]}" >"$work/children"
wait_for_count "$N" "$work/children"
row "+$N children of this script"

kill "${children[@]}"; wait 2>/dev/null || true; children=()

# cpu_ms CMD...: the median of RUNS runs' user + system CPU time, in ms.
cpu_ms() {
  local TIMEFORMAT='%U %S' t
  for _ in $(seq "$RUNS"); do
    t=$( { time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
    awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%d\n", (a[1] + a[2]) * 1000 }'
  done | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2)'
}

mkdir -p "$work/textfile"
for n in $SCAN_NS; do
  setsid -w sh -c 'i=0; while [ $i -lt "$1" ]; do sleep 3600 </dev/null >/dev/null 2>&1 & echo $!; i=$((i+1)); done' sh "$n" >"$work/orphans"
  wait_for_count "$n" "$work/orphans"
  row "+$n orphans (all judged)"
  cpu=$(cpu_ms "$dcheck" scan --textfile "$work/textfile")
  echo "  dcheck scan --textfile, +$n orphans: $cpu ms CPU per scan = $(awk -v c="$cpu" 'BEGIN { printf "%.2f", c / 600 }') % of one core at one scan a minute (target at 2000: 0.5 %)"
  echo "  reports: $("$dcheck" scan -o json | wc -l); max RSS of one scan -o json: $( { /usr/bin/env time -f %M "$dcheck" scan -o json >/dev/null; } 2>&1 | tail -1) KiB"
  xargs kill <"$work/orphans" 2>/dev/null || true
  # Until init has reaped them all: the next count starts from none.
  for _ in $(seq 1000); do
    alive=0
    while read -r p; do [ -e "/proc/$p" ] && { alive=1; break; }; done <"$work/orphans"
    [ "$alive" = 0 ] && break
    sleep 0.05
  done
  : >"$work/orphans"
done
