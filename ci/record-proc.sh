#!/usr/bin/env bash
# record-proc.sh PID [NAME]: print the /proc files dcheck reads for PID as a
# text archive for checks/testdata/proc/ (see internal/proctree). Symlinks
# (cwd, root, fd/N) are written as "-- PID/cwd -> TARGET --". Review the
# output before committing it: the environment may hold secrets.
set -euo pipefail
pid=${1:?usage: record-proc.sh PID}
p=/proc/$pid
echo "Recorded from a live process with ci/record-proc.sh."
echo "want:"
for f in stat status environ; do
  printf -- '-- %s/%s --\n' "$pid" "$f"
  if [ "$f" = environ ]; then tr '\0' '\n' <"$p/$f"; else cat "$p/$f"; fi
done
for l in cwd root; do printf -- '-- %s/%s -> %s --\n' "$pid" "$l" "$(readlink "$p/$l")"; done
for fd in "$p"/fd/*; do
  n=${fd##*/}
  printf -- '-- %s/fd/%s -> %s --\n' "$pid" "$n" "$(readlink "$fd")"
  printf -- '-- %s/fdinfo/%s --\n' "$pid" "$n"; cat "$p/fdinfo/$n"
done
for t in "$p"/task/*; do
  tid=${t##*/}
  printf -- '-- %s/task/%s/children --\n' "$pid" "$tid"; cat "$t/children"; echo
  [ "$tid" = "$pid" ] || { printf -- '-- %s/task/%s/status --\n' "$pid" "$tid"; cat "$t/status"; }
done
