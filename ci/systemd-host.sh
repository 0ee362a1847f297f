#!/usr/bin/env bash
# ci/systemd-host.sh: a real systemd (Debian 12's, 252) as pid 1 of a
# systemd-nspawn container, for the tests that judge daemons the way the
# hosts people run them do (supervisor/systemdhost_test.go). Root only.
#
#   up            build the root file system if missing (debootstrap from the
#                 Debian mirror in the host's apt sources, then the packages;
#                 a few minutes the first time), boot it, wait for the boot
#   exec CMD...   run CMD inside (nsenter into all its namespaces; it stays in
#                 the host's control groups, outside any unit: systemd-run
#                 makes a unit)
#   root          print the container's root directory (to copy files in)
#   status        whether it runs, systemctl is-system-running, failed units
#   down          power it off; anything of it left is killed by pid and its
#                 control groups removed: nothing is left running
#   destroy       down, and delete the root file system
#
# Environment: DCHECK_SDHOST_BASE (/var/tmp/dcheck-systemd-host),
# DCHECK_SDHOST_NAME (dcheck-sdhost), DCHECK_SDHOST_PKGS (the stock daemons
# installed inside), DCHECK_SDHOST_BOOT_TIMEOUT (seconds, 120).
# The container has its own network namespace with loopback only.
#
# The host's own pid 1 need not be systemd: nspawn runs with --register=no
# and --keep-unit, in control groups this script makes (the hybrid layout
# of a Debian 12 host: the named systemd hierarchy and cgroup2 at unified;
# a cgroup2-only host is used as it is).
set -euo pipefail
BASE=${DCHECK_SDHOST_BASE:-/var/tmp/dcheck-systemd-host}
ROOT=$BASE/rootfs
NAME=${DCHECK_SDHOST_NAME:-dcheck-sdhost}
PKGS=${DCHECK_SDHOST_PKGS:-nginx-light redis-server cron openssh-server memcached}
PIDF=$BASE/nspawn.pid
LOG=$BASE/console.log
PATHS=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "systemd-host: error: $*" >&2; exit 1; }
log() { echo "systemd-host: $*" >&2; }
[ "$(id -u)" = 0 ] || die "must run as root"

# The control group hierarchies nspawn is put in: those of the hybrid
# layout that exist here.
hierarchies() {
  local h
  for h in systemd unified; do [ -d "/sys/fs/cgroup/$h" ] && echo "$h"; done
  [ -f /sys/fs/cgroup/cgroup.controllers ] && echo .
  return 0
}

mirror() {  # the Debian mirror of the host's own apt configuration
  local m
  m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list*"
  echo "$m"
}

host_deps() {
  command -v systemd-nspawn >/dev/null && command -v debootstrap >/dev/null && return
  log "installing systemd-container and debootstrap (no service is started)"
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd-container debootstrap >/dev/null \
    || die "apt-get install systemd-container debootstrap failed"
}

# install PKGS in the built root (apt-get in a chroot, no service started)
install_pkgs() {
  log "installing $PKGS (log: $BASE/install.log)"
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  chroot "$ROOT" env -i PATH=$PATHS DEBIAN_FRONTEND=noninteractive sh -c \
    "apt-get update -q && apt-get install -y -q --no-install-recommends $PKGS" >"$BASE/install.log" 2>&1 \
    || die "installing the packages failed, see $BASE/install.log"
  rm -f "$ROOT/usr/sbin/policy-rc.d"  # inside the booted container, services start as usual
  echo "$PKGS" >"$ROOT/.ready"
}

build() {
  if [ -e "$ROOT/.ready" ]; then
    # A root built for another package list gets the missing ones.
    [ "$(cat "$ROOT/.ready")" = "$PKGS" ] || install_pkgs
    return
  fi
  host_deps
  if [ -d "$ROOT" ]; then log "removing the incomplete $ROOT"; rm -rf --one-file-system "$ROOT"; fi
  mkdir -p "$BASE"
  log "debootstrap bookworm into $ROOT (log: $BASE/debootstrap.log)"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps,iproute2 \
    bookworm "$ROOT" "$(mirror)" >"$BASE/debootstrap.log" 2>&1 || die "debootstrap failed, see $BASE/debootstrap.log"
  echo "$NAME" >"$ROOT/etc/hostname"
  install_pkgs
}

npid() {  # our systemd-nspawn's pid, while it runs
  local p; p=$(cat "$PIDF" 2>/dev/null || true)
  [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd-nspawn ] \
    && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat" 2>/dev/null && echo "$p" || true
}
leader() {  # the container's pid 1, as the host numbers it; nothing (and 0) until it is there
  local n c; n=$(npid); [ -n "$n" ] || return 0
  for c in $(cat /proc/"$n"/task/*/children 2>/dev/null); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && { echo "$c"; return 0; }
  done
  # Under set -e, the loop's last failed test would end the script from
  # l=$(leader) while nspawn's child is not systemd yet (a loaded machine).
  return 0
}
cexec() {
  local l; l=$(leader); [ -n "$l" ] || die "the container is not running (use: $0 up)"
  nsenter -t "$l" -a -r -w env -i PATH=$PATHS HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 "$@"
}

cg_clean() {
  local h
  for h in $(hierarchies); do
    [ -d "/sys/fs/cgroup/$h/$NAME" ] && find "/sys/fs/cgroup/$h/$NAME" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

up() {
  if [ -n "$(npid)" ]; then log "already up (nspawn pid $(npid), init pid $(leader))"; return; fi
  build
  cg_clean; rm -rf "/run/systemd/nspawn/propagate/$NAME"
  local h procs=""
  for h in $(hierarchies); do
    mkdir -p "/sys/fs/cgroup/$h/$NAME" || die "cannot make the control group $h/$NAME"
    procs="$procs /sys/fs/cgroup/$h/$NAME/cgroup.procs"
  done
  local t0=$SECONDS
  # Started from control groups of its own, so that what it makes stays
  # inside them; --register=no and --keep-unit: no machined on the host.
  setsid sh -c 'for p in $4; do echo $$ >"$p"; done
    exec systemd-nspawn -q -D "$1" -M "$2" -b --register=no --keep-unit --console=pipe --private-network' \
    sh "$ROOT" "$NAME" unused "$procs" </dev/null >"$LOG" 2>&1 &
  echo $! >"$PIDF"
  local i=0 l=""
  while [ -z "$l" ]; do
    sleep 0.5; i=$((i+1)); l=$(leader)  # nothing to wait on but the process list
    [ -n "$(npid)" ] || { tail -20 "$LOG" >&2; die "systemd-nspawn exited, see $LOG"; }
    [ $i -lt 120 ] || { down; die "the container's init did not appear, see $LOG"; }
  done
  local st="" end=$((SECONDS+${DCHECK_SDHOST_BOOT_TIMEOUT:-120}))
  while [ $SECONDS -lt $end ]; do  # systemctl fails until pid 1's socket is there
    st=$(nsenter -t "$l" -a -r -w env -i PATH=$PATHS systemctl is-system-running 2>/dev/null || true)
    case "$st" in ""|offline|initializing|starting) sleep 0.5;; *) break;; esac
  done
  case "$st" in
    running|degraded) log "up in $((SECONDS-t0)) s: systemd is pid 1, state $st (host pid of init: $l)";;
    *) down; die "boot state '${st:-none}' after $((SECONDS-t0)) s, see $LOG";;
  esac
  if [ "$st" = degraded ]; then cexec systemctl --failed --no-legend >&2 || true; fi
}

down() {
  local n l i p
  n=$(npid); l=$(leader)
  if [ -n "$n" ]; then
    kill -TERM "$n"  # nspawn asks the container's systemd to power off
    for i in $(seq 1 60); do [ -n "$(npid)" ] || break; sleep 0.5; done
    if [ -n "$(npid)" ]; then
      log "the power-off timed out: SIGKILL to init $l and nspawn $n"
      [ -n "$l" ] && kill -KILL "$l" 2>/dev/null || true
      kill -KILL "$n" 2>/dev/null || true
    fi
    for i in $(seq 1 20); do [ -d "/proc/$n" ] || break; sleep 0.5; done
  fi
  # The death of init ends its pid namespace; anything still in our control
  # groups, or chrooted into our root (a build step), is ours: killed by pid.
  for p in $( { for h in $(hierarchies); do find "/sys/fs/cgroup/$h/$NAME" -name cgroup.procs -exec cat {} + 2>/dev/null; done
      find /proc -mindepth 2 -maxdepth 2 -name root -lname "$ROOT" 2>/dev/null | cut -d/ -f3; } | sort -u); do
    log "killing the leftover pid $p"; kill -KILL "$p" 2>/dev/null || true
  done
  cg_clean
  rm -f "$PIDF"; rm -rf "/run/systemd/nspawn/propagate/$NAME"
  for h in $(hierarchies); do [ -d "/sys/fs/cgroup/$h/$NAME" ] && log "warning: the control group $h/$NAME is still there"; done
  log "down"
}

status() {
  local n; n=$(npid)
  [ -n "$n" ] || { echo "not running"; return 1; }
  echo "running: nspawn pid $n, init pid $(leader); state: $(cexec systemctl is-system-running 2>/dev/null || true)"
  cexec systemctl --failed --no-legend || true
}

case "${1:-}" in
  up) up;;
  exec) shift; [ $# -gt 0 ] || die "usage: $0 exec CMD..."; cexec "$@";;
  root) echo "$ROOT";;
  status) status;;
  down) down;;
  destroy) down; rm -rf --one-file-system "$ROOT"; log "the root file system is removed";;
  *) echo "usage: $0 {up|exec CMD...|root|status|down|destroy}" >&2; exit 2;;
esac
