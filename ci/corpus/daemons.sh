# The corpus: real daemons from Debian's packages, each started in its own
# daemonizing mode, bound to 127.0.0.1 on a high port or to no network, every
# file under $T (a temporary directory). Sourced by ci/corpus/run.sh.
#
# The ports are fixed: two corpus runs at once on one machine collide.
#
# Each daemon is a function corpus_NAME that sets:
#   need     the Debian package(s) it comes from
#   pidfile  its pidfile ("" when it has none)
#   stop     a stop command ("" for SIGTERM)
#   flags    extra dcheck verify flags
#   start    the start command (an array)
# and may prepare files under $T first. An init script's function sets
#   script   the LSB init script Debian ships (dcheck verify --init-script)
# instead of start and stop: it runs the daemon as the package configures
# it, with its paths and ports (a host where that service already runs
# skips it), and its actions are judged too (SU120-SU124); a unit's sets
#   unit     the systemd unit Debian ships (dcheck verify --unit)
#   dropins  drop-ins applied over it (an array, files in ci/corpus/dropins)
# and runs the daemon as systemd would, the unit's own paths and ports.

corpus_redis() {
  need=redis-server pidfile=$T/redis.pid stop="redis-cli -p 46379 shutdown nosave" flags=(--reload)
  start=(redis-server --daemonize yes --port 46379 --bind 127.0.0.1 --pidfile "$pidfile"
         --dir "$T" --logfile "$T/redis.log" --save "")
}

corpus_memcached() {
  # memcached writes its pidfile after dropping to -u: give it a directory
  # of that user's, as the Debian package does (/run/memcached).
  mkdir -p "$T/run" && chown nobody "$T/run"
  need=memcached pidfile=$T/run/memcached.pid stop="" flags=()
  start=(memcached -d -p 41211 -U 0 -l 127.0.0.1 -P "$pidfile" -u nobody)
}

corpus_nginx() {
  need=nginx-light pidfile=$T/nginx.pid stop="" flags=(--reload)
  mkdir -p "$T/nginx"
  cat >"$T/nginx/nginx.conf" <<CONF
pid $pidfile;
error_log $T/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $T/nginx/body;
  proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi;
  uwsgi_temp_path $T/nginx/uwsgi;
  scgi_temp_path $T/nginx/scgi;
  server { listen 127.0.0.1:48080; }
}
CONF
  start=(nginx -c "$T/nginx/nginx.conf" -p "$T/nginx")
}

corpus_dnsmasq() {
  need=dnsmasq-base pidfile=$T/dnsmasq.pid stop="" flags=(--reload)
  start=(dnsmasq --port=45353 --listen-address=127.0.0.1 --bind-interfaces --pid-file="$pidfile"
         --conf-file=/dev/null --no-resolv --no-hosts --log-facility="$T/dnsmasq.log")
}

corpus_haproxy() {
  need=haproxy pidfile=$T/haproxy.pid stop="" flags=()
  cat >"$T/haproxy.cfg" <<CONF
global
  log stdout format raw local0
defaults
  mode http
  timeout connect 1s
  timeout client 1s
  timeout server 1s
frontend corpus
  bind 127.0.0.1:48081
  default_backend none
backend none
CONF
  start=(haproxy -D -f "$T/haproxy.cfg" -p "$pidfile")
}

corpus_rsyslogd() {
  need=rsyslog pidfile=$T/rsyslogd.pid stop="" flags=(--reload)
  cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T")
*.* $T/rsyslog.out
CONF
  start=(rsyslogd -f "$T/rsyslog.conf" -i "$pidfile")
}

corpus_sshd() {
  need=openssh-server pidfile=$T/sshd.pid stop="" flags=(--reload)
  mkdir -p /run/sshd # sshd's privilege separation directory
  ssh-keygen -q -t ed25519 -N "" -f "$T/hostkey" </dev/null
  : >"$T/sshd_config"
  start=(/usr/sbin/sshd -f "$T/sshd_config" -h "$T/hostkey" -p 42222 -o ListenAddress=127.0.0.1
         -o PidFile="$pidfile")
}

corpus_libslack_daemon() {
  need=daemon pidfile=$T/corpus.pid stop="daemon --name=corpus --pidfiles=$T --stop" flags=()
  start=(daemon --name=corpus --pidfiles="$T" -- sleep 100000)
}

corpus_daemonize() {
  need=daemonize pidfile=$T/daemonize.pid stop="" flags=()
  start=(daemonize -p "$pidfile" -l "$T/daemonize.lock" -c / /bin/sleep 100000)
}

corpus_start_stop_daemon() {
  need=dpkg pidfile=$T/ssd.pid stop="start-stop-daemon --stop --pidfile $T/ssd.pid --remove-pidfile --retry TERM/5" flags=()
  start=(start-stop-daemon --start --background --make-pidfile --pidfile "$pidfile" --exec /bin/sleep -- 100000)
}

corpus_python3_daemon() {
  need=python3-daemon pidfile=$T/pydaemon.pid stop="" flags=()
  start=(/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/pydaemon.py" "$pidfile")
}

# The init scripts Debian ships in these packages.
corpus_nginx_init() {
  need=nginx-light script=/etc/init.d/nginx pidfile=/run/nginx.pid flags=(--reload)
}

corpus_redis_init() {
  need=redis-server script=/etc/init.d/redis-server pidfile=/run/redis/redis-server.pid flags=(--reload)
}

corpus_memcached_init() {
  # SU109 is not asked: which of eight starts at once writes the pidfile
  # last is timing (ci/corpus/notes.txt).
  need=memcached script=/etc/init.d/memcached pidfile=/run/memcached.pid flags=(--label-filter '!SU109')
}

corpus_haproxy_init() {
  # DC503 is not asked: whether haproxy holds its syslog socket when the
  # run settles varies from run to run (ci/corpus/notes.txt).
  need=haproxy script=/etc/init.d/haproxy pidfile=/run/haproxy.pid flags=(--label-filter '!DC503')
}

corpus_ssh_init() {
  # SU109 is not asked: its outcome was not the same in every run
  # (ci/corpus/notes.txt).
  need=openssh-server script=/etc/init.d/ssh pidfile=/run/sshd.pid flags=(--reload --label-filter '!SU109')
}

corpus_supervisor_init() {
  need=supervisor script=/etc/init.d/supervisor pidfile=/run/supervisord.pid flags=()
}

# The systemd units Debian ships in these packages, run as systemd would.
corpus_nginx_unit() {
  need=nginx-light unit=/lib/systemd/system/nginx.service pidfile=/run/nginx.pid flags=()
}

corpus_redis_unit() {
  need=redis-server unit=/lib/systemd/system/redis-server.service pidfile=/run/redis/redis-server.pid flags=()
}

corpus_memcached_unit() {
  need=memcached unit=/lib/systemd/system/memcached.service pidfile=/run/memcached/memcached.pid flags=()
}

corpus_haproxy_unit() {
  # The unit passes the pidfile in Environment= (-p $PIDFILE), not PIDFile=.
  need=haproxy unit=/lib/systemd/system/haproxy.service pidfile=/run/haproxy.pid flags=()
}

corpus_ssh_unit() {
  # sshd -D writes /run/sshd.pid although the unit names none.
  need=openssh-server unit=/lib/systemd/system/ssh.service pidfile=/run/sshd.pid flags=()
}

corpus_supervisor_unit() {
  # SU109 is not asked: its outcome was not the same in every run
  # (ci/corpus/notes.txt).
  need=supervisor unit=/lib/systemd/system/supervisor.service pidfile=/run/supervisord.pid flags=(--label-filter '!SU109')
}

corpus_node_exporter_unit() {
  need=prometheus-node-exporter unit=/lib/systemd/system/prometheus-node-exporter.service pidfile="" flags=()
  dropins=("$here/dropins/node-exporter-port.conf")
}

corpus_ssh_socket() {
  # ssh.service with ssh.socket, moved off port 22 by a drop-in: Debian's
  # sshd takes its listener from sd_listen_fds.
  need=openssh-server unit=/lib/systemd/system/ssh.service pidfile=/run/sshd.pid flags=()
  socket=/lib/systemd/system/ssh.socket socket_dropins=("$here/dropins/ssh-socket-port.conf")
}

corpus_dbus_unit() {
  # Socket activation: dbus.socket's socket is passed as fd 3, moved out of
  # the way of a system bus the host may run; dbus-send (ExecReload=) is
  # told where it went.
  need=dbus unit=/lib/systemd/system/dbus.service pidfile="" flags=()
  dropins=("$here/dropins/dbus-address.conf")
  socket=/lib/systemd/system/dbus.socket socket_dropins=("$here/dropins/dbus-socket.conf")
}

CORPUS=(redis memcached nginx dnsmasq haproxy rsyslogd sshd libslack_daemon daemonize start_stop_daemon python3_daemon
        nginx_init redis_init memcached_init haproxy_init ssh_init supervisor_init
        nginx_unit redis_unit memcached_unit haproxy_unit ssh_unit supervisor_unit node_exporter_unit dbus_unit ssh_socket)
