"""A daemon made with python3-daemon's DaemonContext (PEP 3143), the way its
documentation shows, with a lock-file pidfile."""
import sys
import time

import daemon
import daemon.pidfile

with daemon.DaemonContext(pidfile=daemon.pidfile.TimeoutPIDLockFile(sys.argv[1])):
    while True:
        time.sleep(1)
