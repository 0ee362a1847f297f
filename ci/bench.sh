#!/usr/bin/env bash
# bench.sh [DCHECK [GOODDAEMON]]: whole-command costs, on this machine, in
# one run, each beside its floor and its target (the README's Performance
# section; issue "Lean"). CPU (user + system), not wall time, wherever a
# target is a ratio: perf stat's task-clock when perf is installed, else
# bash's time over LOOPS runs.
#
#   start: dcheck version, dcheck PID and dcheck -o nagios --pidfile P,
#   each against ps --version (target: at most 1x), beside an empty Go
#   program built here (the floor of any Go command).
#
#   daemonize: a daemon built with it (gooddaemon) against the empty Go
#   program: binary size, and the CPU of a run that prints its usage.
#
#   gooddaemon start (two re-execs and the readiness handshake) and stop,
#   next to start-stop-daemon --start --background --make-pidfile of sleep
#   and its --stop: median wall time of STARTS runs (default 30).
#
#   scan: with N idle processes (default 2000) that are children of this
#   script, then, for each count in SCAN_NS (default "150 2000 10000"),
#   that many orphans that scan judges in full: dcheck scan -o json against
#   ps -eo ... (wall, for the record), its user CPU against its system CPU
#   (target at 2000: at most 0.5x), its CPU against lsof -n -P -w's, which
#   reads the same descriptors (target at 2000: at most 0.4x), the CPU of
#   one scan --textfile a minute, start included, as a share of one core
#   (target at 150: at most 0.08 %), and its max RSS (target at 10000: at
#   most 25 MB).
#
# Each command runs RUNS times (default 7) where a median is shown. Every
# process started here is stopped by pid on exit.
set -euo pipefail
dcheck=${1:-bin/dcheck}
gooddaemon=${2:-bin/gooddaemon}
N=${N:-2000}
SCAN_NS=${SCAN_NS:-150 2000 10000}
LOOPS=${LOOPS:-50}
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

# cpu1 CMD...: the CPU (user + system) of one run of CMD, in ms with two
# decimals: perf stat's task-clock over LOOPS runs when perf works here,
# else bash's time over a loop of LOOPS runs (which adds the loop's fork
# to each, the same for every command compared).
if perf stat -x, -e task-clock true >/dev/null 2>&1; then
  CPU_HOW="perf stat -r $LOOPS -e task-clock"
  cpu1() { { perf stat -r "$LOOPS" -x, -e task-clock "$@" 2>&1 >/dev/null || true; } | awk -F, '/task-clock/ { printf "%.2f", $1 }'; }
else
  CPU_HOW="bash time over $LOOPS runs"
  cpu1() {
    local TIMEFORMAT='%3U %3S' t
    t=$( { time (for _ in $(seq "$LOOPS"); do "$@" >/dev/null 2>&1 || true; done); } 2>&1 | tail -1)
    awk -v t="$t" -v n="$LOOPS" 'BEGIN { split(t, a, " "); printf "%.2f", (a[1] + a[2]) * 1000 / n }'
  }
fi

# ratio A B: A / B as "0.87x".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
# meets A B LIMIT: "met" when A / B <= LIMIT, else "NOT MET".
meets() { awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { print (b > 0 && a / b <= l) ? "met" : "NOT MET" }'; }
# at N WANT TEXT: TEXT when N is WANT (the count a scan target is set at).
at() { [ "$1" = "$2" ] && printf '; target %s' "$3"; true; }

# An empty Go program, built with the same toolchain: the floor of any Go
# command's start.
empty=""
if command -v go >/dev/null; then
  mkdir -p "$work/empty"
  printf 'package main\n\nfunc main() {}\n' >"$work/empty/main.go"
  printf 'module empty\n' >"$work/empty/go.mod"
  (cd "$work/empty" && CGO_ENABLED=0 go build -trimpath -o empty . 2>/dev/null) && empty="$work/empty/empty"
fi

echo
echo "start: CPU of one run, ms ($CPU_HOW)"
sleep 3600 </dev/null >/dev/null 2>&1 &
children+=($!)
target=$!
echo "$target" >"$work/target.pid"
ps_cpu=$(cpu1 ps --version)
printf '%-44s %8s %10s %8s %8s\n' "command" "CPU" "/ ps" "target" ""
[ -n "$empty" ] && printf '%-44s %8s %10s\n' "an empty Go program (the floor)" "$(cpu1 "$empty")" "$(ratio "$(cpu1 "$empty")" "$ps_cpu")"
printf '%-44s %8s %10s\n' "ps --version" "$ps_cpu" "1.00x"
for c in "version" "$target" "-o nagios --pidfile $work/target.pid"; do
  # shellcheck disable=SC2086 # the words of c are the arguments
  t=$(cpu1 "$dcheck" $c)
  printf '%-44s %8s %10s %8s %8s\n' "dcheck $(echo "$c" | sed "s|$work/||; s|^$target\$|PID|")" "$t" "$(ratio "$t" "$ps_cpu")" "1x" "$(meets "$t" "$ps_cpu" 1)"
done
kill "$target"; children=()

if [ -n "$empty" ] && [ -x "$gooddaemon" ]; then
  echo
  echo "daemonize: a daemon built with it (gooddaemon) against the empty Go program"
  printf '%-44s %10s %10s %8s\n' "" "gooddaemon" "empty" "ratio"
  gs=$(stat -c %s "$gooddaemon"); es=$(stat -c %s "$empty")
  printf '%-44s %10s %10s %8s\n' "binary size (bytes)" "$gs" "$es" "$(ratio "$gs" "$es")"
  gc=$(cpu1 "$gooddaemon"); ec=$(cpu1 "$empty")
  printf '%-44s %10s %10s %8s\n' "CPU of a run that prints its usage (ms)" "$gc" "$ec" "$(ratio "$gc" "$ec")"
fi
echo

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
printf '%-34s %10s %10s %8s\n' "scan, wall (median of $RUNS, ms)" "scan" "ps" "ratio"
row "host as it is"

for _ in $(seq "$N"); do sleep 3600 </dev/null >/dev/null 2>&1 & children+=($!); done
printf '%s\n' "${children[@]}" >"$work/children"
wait_for_count "$N" "$work/children"
row "+$N children of this script"

kill "${children[@]}"; wait 2>/dev/null || true; children=()

# cpu_us CMD...: the median of RUNS runs' user and system CPU, "U S" in ms.
cpu_us() {
  local TIMEFORMAT='%3U %3S' t
  for _ in $(seq "$RUNS"); do
    t=$( { time "$@" >/dev/null 2>&1 || true; } 2>&1 | tail -1)
    awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%d %d %d\n", (a[1] + a[2]) * 1000, a[1] * 1000, a[2] * 1000 }'
  done | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $2, $3 }'
}

mkdir -p "$work/textfile"
for n in $SCAN_NS; do
  setsid -w sh -c 'i=0; while [ $i -lt "$1" ]; do sleep 3600 </dev/null >/dev/null 2>&1 & echo $!; i=$((i+1)); done' sh "$n" >"$work/orphans"
  wait_for_count "$n" "$work/orphans"
  echo
  echo "+$n orphans, all judged"
  row "  wall: dcheck scan -o json / ps"
  read -r su ss < <(cpu_us "$dcheck" scan -o json)
  printf '  %-50s %s / %s ms = %s%s\n' "dcheck scan -o json, user / system CPU" "$su" "$ss" "$(ratio "$su" "$ss")" "$(at "$n" 2000 "0.5x: $(meets "$su" "$ss" 0.5)")"
  if command -v lsof >/dev/null; then
    read -r lu ls < <(cpu_us lsof -n -P -w)
    printf '  %-50s %s / %s ms = %s%s\n' "CPU: dcheck scan -o json / lsof -n -P -w" "$((su + ss))" "$((lu + ls))" "$(ratio $((su + ss)) $((lu + ls)))" "$(at "$n" 2000 "0.4x: $(meets $((su + ss)) $((lu + ls)) 0.4)")"
  fi
  read -r tu ts < <(cpu_us "$dcheck" scan --textfile "$work/textfile")
  printf '  %-50s %s ms = %s %% of one core%s\n' "CPU of scan --textfile, once a minute" "$((tu + ts))" "$(awk -v c=$((tu + ts)) 'BEGIN { printf "%.3f", c / 600 }')" "$(at "$n" 150 "0.08 %: $(meets $((tu + ts)) 60000 0.0008)")"
  rss=$( { /usr/bin/env time -f %M "$dcheck" scan -o json >/dev/null || true; } 2>&1 | tail -1)
  printf '  %-50s %s KiB%s\n' "max RSS of one scan -o json" "$rss" "$(at "$n" 10000 "25 MB: $(meets "$rss" 25600 1)")"
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
