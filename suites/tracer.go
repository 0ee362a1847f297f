//go:build linux

package suites

import (
	"os/exec"
	"time"

	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/suites/internal/tracer"
)

// startTraced runs cmd as the traced start command, with the timeout, and
// reads the pidfile at its exit: SU102 decided causally (the design is in
// suites/internal/tracer's doc). The tracer uses the harness's launch, its
// guarded signals and its look at the pidfile, and hands back to its
// reaper each process it reaped.
func (h *harness) startTraced(cmd *exec.Cmd, timeout time.Duration) exitFacts {
	fsys, _ := looks().(*proc.FS) // threads, which only /proc has
	if !h.can.freeze || fsys == nil {
		return h.startUntraced(cmd, timeout)
	}
	return tracer.Run(cmd, timeout, tracer.Hooks{
		FS:            fsys,
		Start:         h.startOnThisThread,
		Signal:        h.signal,
		LookAtPidFile: h.lookAtPidFile,
		RunProcesses:  h.runProcesses,
		Killed:        h.noteKilled,
		Done:          h.procs.Waited,
		JobControl:    h.cfg.Launch == LaunchJobControl,
	})
}
