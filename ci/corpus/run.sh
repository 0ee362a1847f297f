#!/usr/bin/env bash
# run.sh [-update] [DCHECK] [NAME...]: verify the corpus of real daemons
# (ci/corpus/daemons.sh) with dcheck verify, and compare each daemon's
# verdict per rule with ci/corpus/expected/NAME.txt. -update rewrites them
# (check every change against /proc by hand first). docs/corpus.md is
# rewritten from the expected files and ci/corpus/notes.txt.
# Exit 1 when a verdict changed, 0 otherwise. Run it as root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
update=0
if [ "${1:-}" = -update ]; then update=1; shift; fi
dcheck=$(realpath "${1:-bin/dcheck}"); shift || true
. "$here/daemons.sh"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${CORPUS[@]}")

changed=0
for name in "${names[@]}"; do
  T=$(mktemp -d /tmp/dcheck-corpus-"$name".XXXX)
  chmod 755 "$T"
  script="" unit="" dropins=() socket="" socket_dropins=() stop="" start=()
  "corpus_$name"
  if ! dpkg -s $need >/dev/null 2>&1; then
    echo "== $name: SKIP ($need is not installed)"
    rm -rf "$T"; continue
  fi
  if [ -n "$script$unit" ] && [ -n "$pidfile" ] && [ -s "$pidfile" ] && kill -0 "$(head -c 32 "$pidfile")" 2>/dev/null; then
    echo "== $name: SKIP ($pidfile names a running process: the service already runs here)"
    rm -rf "$T"; continue
  fi
  args=(verify --strict "${flags[@]}")
  [ -n "$pidfile" ] && args+=(--pidfile "$pidfile")
  [ -n "$stop" ] && args+=(--stop "$stop")
  if [ -n "$script" ]; then
    args+=(--init-script "$script")
  elif [ -n "$unit" ]; then
    args+=(--unit "$unit")
    for d in "${dropins[@]}"; do args+=(--dropin "$d"); done
    if [ -n "$socket" ]; then
      args+=(--socket "$socket")
      for d in "${socket_dropins[@]}"; do args+=(--socket-dropin "$d"); done
    fi
  else
    args+=(-- "${start[@]}")
  fi
  out=$(cd "$T" && timeout 300 "$dcheck" "${args[@]}" 2>&1)
  # warn and fail are one verdict here (--strict).
  # Specs unknown for one reason share a line: "(also DC102, DC103: 3 specs in all)".
  got=$(printf '%s\n' "$out" | awk '/^(DC|SU)[0-9][0-9][0-9] / { s = tolower($3); if (s == "warn") s = "fail"; print $1, s
    if (match($0, /\(also [A-Z0-9, ]+: [0-9]+ specs in all\)$/)) {
      list = substr($0, RSTART + 6, RLENGTH - 6); sub(/: [0-9]+ specs in all\)$/, "", list)
      n = split(list, ids, ", "); for (i = 1; i <= n; i++) print ids[i], s
    } }')
  mkdir -p "${OUT:-/tmp}/corpus"; printf '%s\n' "$out" >"${OUT:-/tmp}/corpus/$name.out"
  expected="$here/expected/$name.txt"
  if [ "$update" = 1 ]; then
    printf '%s\n' "$got" >"$expected"
  fi
  if [ "$got" = "$(cat "$expected" 2>/dev/null)" ]; then
    echo "== $name: as expected ($(printf '%s\n' "$got" | grep -c -v ' pass$\| skip$') findings)"
  else
    echo "== $name: CHANGED"
    diff <(cat "$expected" 2>/dev/null) <(printf '%s\n' "$got") | sed 's/^/   /'
    printf '%s\n' "$out" | sed -n '/^dcheck verify:/,/ passed, /p' | sed 's/^/   /'
    changed=1
  fi
  rm -rf "$T"
done

"$here/docs.sh" >"$here/../../docs/corpus.md"
exit $changed
