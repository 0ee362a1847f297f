package suites

import (
	"fmt"

	"github.com/dcheck/dcheck/suites/internal/sdemu"
)

// Socket activation (dcheck verify --unit --socket): the harness opens the
// socket unit's listening sockets as systemd does (sdemu.ListenOn), once
// for the run (they outlive every start and stop of the service, as the
// socket unit's do), and passes them to each start of ExecStart= as
// descriptors 3, 4, ... with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID
// (sd_listen_fds(3)). The specs are in socketspec.go.

// socketOneInstance is why SU103 and SU109 are not asked under --socket:
// what they start, systemd never does, and the run would have to give the
// sockets to two daemons at once (which both serve them) or to none (and
// the second binds the unit's addresses on the host).
const socketOneInstance = "with socket activation systemd runs one instance and passes the sockets to it alone: a start of an active unit does nothing, and starts of one unit do not overlap"

// openSockets opens the listening sockets of the run's socket unit.
func (h *harness) openSockets() error {
	sock := h.cfg.socket
	if sock == nil {
		return nil
	}
	for _, l := range sock.Listen {
		p, err := sdemu.ListenOn(l, sock)
		if err != nil {
			return fmt.Errorf("socket %s: ListenStream=%s: %w", sock.Name, l.Line, err)
		}
		h.sockets = append(h.sockets, p)
	}
	return nil
}

// closeSockets closes the run's listening sockets and removes the file
// system sockets it created, as systemd does when the socket unit stops.
func (h *harness) closeSockets() {
	for _, p := range h.sockets {
		p.Close()
	}
}
