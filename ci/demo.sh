#!/usr/bin/env bash
# demo.sh [DCHECK]: start two example processes, one daemon-like and one
# not, judge each with dcheck, and stop both (by pid).
set -euo pipefail
dcheck=${1:-bin/dcheck}
work=$(mktemp -d)
daemon= plain=
cleanup() {
  for pid in $daemon $plain; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A classic daemon in shell: a new session, a background job that is not its
# leader, cwd /, umask 022, stdio on /dev/null and a log, a flocked pidfile,
# and nothing else of what started it (the descriptors a terminal or a
# tool left open above 2 are closed: DC205 names any it finds).
setsid -w bash -c '
  cd / && unset OLDPWD && umask 022
  for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done
  exec 3>"$0/demo.pid" && flock -n 3
  sleep 600 </dev/null >>"$0/demo.log" 2>&1 &
  echo $! >&3' "$work" </dev/null
daemon=$(cat "$work/demo.pid")
# Not a daemon: an ordinary child of this script, in its cwd, on its stdio.
sleep 600 &
plain=$!

# Wait for both to have exec'd sleep (the kernel gives no event for that).
for pid in $daemon $plain; do
  for _ in $(seq 500); do [ "$(cat /proc/$pid/comm 2>/dev/null)" = sleep ] && break; sleep 0.01; done
done

# An orphan is adopted by pid 1, or by a subreaper (systemd --user, ...).
reaper=$(awk '{print $4}' /proc/"$daemon"/stat)
flags=(--pidfile "$work/demo.pid")
[ "$reaper" = 1 ] || flags+=(--reaper "$reaper")

echo "== A daemon started by a shell script (pid $daemon): dcheck ${flags[*]}"
"$dcheck" "${flags[@]}" && echo "(exit $?)" || echo "(exit $?)"
echo
echo "== An ordinary background job of this script (pid $plain): dcheck $plain"
"$dcheck" "$plain" && echo "(exit $?)" || echo "(exit $?)"
echo
echo "== The same daemon as a fleet's Nagios-compatible checker sees it: dcheck -o nagios ${flags[*]}"
"$dcheck" -o nagios "${flags[@]}" && echo "(exit $?)" || echo "(exit $?: the plugin API's codes)"
echo
echo "== Why DC103 matters: dcheck explain DC103"
"$dcheck" explain DC103 | sed -n '1,12p'

# dcheck verify: start a daemon in a hostile environment, judge it, drive its
# lifecycle, stop it. Only dcheck's own summary is shown here.
bindir=$(dirname "$dcheck")
verify() { # verify TITLE DAEMON [ARGS...]
  echo
  echo "== dcheck verify: $1"
  shift
  "$dcheck" verify --reload --pidfile "$work/v.pid" -- "$@" -pidfile "$work/v.pid" -log "$work/v.log" 2>&1 |
    sed -n '/^dcheck verify:/,/ passed, /p' && echo "(exit 0)" || echo "(exit ${PIPESTATUS[0]})"
}
verify "gooddaemon, built on the daemonize library: every spec passes" "$bindir/gooddaemon" start
verify "a daemon that forks once (glibc daemon(3) style): it leads its session" "$bindir/brokendaemon" start -fault single-fork
verify "a daemon that never closes what it inherited: the harness's descriptor 9 reaches it" "$bindir/brokendaemon" start -fault leak-fd
