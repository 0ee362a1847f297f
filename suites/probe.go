package suites

import (
	"fmt"
	"net"
	"strings"
)

// probeResult is one connection to a --probe address at the moment the
// unit said the daemon was ready.
type probeResult struct {
	addr string
	err  error // nil: it took the connection
}

// probeReady connects once to each --probe address, now: the instant the
// unit says the daemon is ready. A socket something listens on takes the
// connection (into its queue, even from a process that is stopped), so the
// look says whether the daemon listens, not how fast it answers. It runs
// once per run: the first readiness is the one judged.
func (h *harness) probeReady() {
	if len(h.cfg.Probe) == 0 || h.probed {
		return
	}
	h.probed = true
	for _, p := range h.cfg.Probe {
		network, addr, err := probeAddress(p)
		if err == nil {
			var c net.Conn
			if c, err = net.DialTimeout(network, addr, h.cfg.StartTimeout); err == nil {
				c.Close()
			}
		}
		h.probes = append(h.probes, probeResult{addr: p, err: err})
	}
}

// probeVerdict sums up the probes for SU113: what answered, and what did
// not; both "" when nothing was probed.
func (h *harness) probeVerdict() (answered, refused string) {
	var ok, bad []string
	for _, r := range h.probes {
		if r.err != nil {
			bad = append(bad, fmt.Sprintf("%s (%v)", r.addr, unwrapOpError(r.err)))
		} else {
			ok = append(ok, r.addr)
		}
	}
	return strings.Join(ok, ", "), strings.Join(bad, ", ")
}

// unwrapOpError drops net.OpError's "dial unix /x:" prefix, which repeats
// the address.
func unwrapOpError(err error) error {
	if op, ok := err.(*net.OpError); ok && op.Err != nil {
		return op.Err
	}
	return err
}
