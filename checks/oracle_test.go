//go:build linux

package checks_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

// TestSnapshotAgreesWithProcpsLsofLslocksPwdx is the independent oracle:
// procps, lsof and util-linux read /proc with code other than ours. Over
// live processes of many shapes, every fact both sides report must agree;
// where they legitimately differ, the comparison below says why.
func TestSnapshotAgreesWithProcpsLsofLslocksPwdx(t *testing.T) {
	for _, tool := range []string{"ps", "lsof", "lslocks", "pwdx", "bash", "flock"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs procps, lsof, util-linux): %v", tool, err)
		}
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	gone := filepath.Join(dir, "gone")
	os.Mkdir(gone, 0o755)
	pids := map[string]int{"init (pid 1)": 1, "a kernel thread (kthreadd, pid 2)": 2}
	for _, p := range []struct {
		shape string
		l     launch
	}{
		{"a child left by its shell", launch{script: `sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"a double fork", launch{setsid: true, script: `cd / && sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"a job-control process group", launch{setpgid: true, script: `sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"signals ignored (HUP, INT, QUIT)", launch{script: `trap '' HUP INT QUIT; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"signals blocked (USR1, USR2)", launch{env: []string{"DCHECK_BLK=10,12"}, script: `$HELPER sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"umask 077 in /var", launch{script: `cd /var && umask 077 && sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"a deleted working directory", launch{script: `cd "` + gone + `" && rmdir "` + gone + `" && sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"a flock(1) lock held", launch{script: `flock --no-fork "` + filepath.Join(dir, "f.lock") + `" sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"1,000 descriptors", launch{script: `bash -c 'for i in $(seq 10 1009); do eval "exec $i</dev/null"; done; exec sleep 1000' </dev/null >/dev/null 2>&1 & echo $!`}},
		{"a deleted file held open", launch{script: `exec 3>"` + filepath.Join(dir, "del") + `"; rm "` + filepath.Join(dir, "del") + `"; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"nohup in the background", launch{script: `nohup sleep 1000 >/dev/null 2>&1 & echo $!`}},
		{"a correct shell daemon, locked pidfile", launch{script: goodScript, setsid: true, env: []string{"PIDFILE=" + filepath.Join(dir, "good.pid"), "LOG=" + filepath.Join(dir, "good.log")}}},
		{"running as nobody", launch{script: `setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`}},
		{"a Unix socket listener (Go)", launch{script: `DCHECK_TEST_HELPER=listen "$SELF" "$SOCK" </dev/null >/dev/null 2>&1 & echo $!`,
			env: []string{"SELF=" + self(t), "SOCK=" + filepath.Join(dir, "l.sock")}, comm: goComm(t)}},
	} {
		t.Logf("starting: %s", p.shape)
		pids[p.shape] = start(t, p.l)
	}
	// A session leader with a pty as its controlling terminal.
	_, pts := openPTY(t)
	onPty := exec.Command("sleep", "1000")
	onPty.Stdin, onPty.Stdout, onPty.Stderr = pts, pts, pts
	onPty.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := onPty.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { onPty.Process.Kill(); onPty.Wait() })
	waitFor(t, "sleep on the pty to exec", func() bool { return commOf(onPty.Process.Pid) == "sleep" })
	pids["a process on a pty, its terminal"] = onPty.Process.Pid
	// cat reading a pipe from sleep: the shell that runs both is the one
	// started (and killed with its descendants when the test ends).
	pipeline := start(t, launch{script: `sh -c 'sleep 1000 | cat' </dev/null >/dev/null 2>&1 & echo $!`, comm: "sh"})
	waitFor(t, "cat on its pipe", func() bool {
		for _, c := range descendants(pipeline) {
			if commOf(c) == "cat" {
				pids["a pipe"] = c
				return true
			}
		}
		return false
	})
	// A process with a zombie child, and the zombie itself.
	parent := start(t, launch{setsid: true, script: `cd /; sh -c 'sleep 0 & exec sleep 1000' </dev/null >/dev/null 2>&1 & echo $!`})
	pids["the parent of a zombie"] = parent
	var zombie int
	waitFor(t, "a zombie child", func() bool {
		for _, c := range descendants(parent) {
			if isZombie(c) {
				zombie = c
				return true
			}
		}
		return false
	})
	pids["a zombie"] = zombie
	// Go programs: many threads, sockets, the test binary's helper as a
	// daemon holding its own descriptors.
	pids["a multi-threaded Go process"] = start(t, launch{script: `DCHECK_TEST_HELPER=idle "$SELF" </dev/null >/dev/null 2>&1 & echo $!`,
		env: []string{"SELF=" + self(t)}, comm: goComm(t)})
	if len(pids) < 20 {
		t.Fatalf("only %d processes: the oracle wants at least 20 shapes", len(pids))
	}

	fsys, err := proc.NewFS("")
	if err != nil {
		t.Fatal(err)
	}
	// Processes at rest agree with themselves from one look to the next.
	// Each comparison is made between two looks of dcheck that agree, and
	// a disagreement must last: a process that changed between the looks
	// (a Go runtime still starting its threads on a loaded machine, its
	// leader thread running for an instant) is looked at again, up to 50
	// times.
	locks := lslocksByPID(t)
	for shape, pid := range pids {
		t.Run(shape, func(t *testing.T) {
			var s *proc.Snapshot
			var problems []string
			for try := 0; ; try++ {
				before, err := fsys.Take(pid)
				if err != nil {
					t.Fatalf("Take(%d): %v", pid, err)
				}
				ps := psFacts(t, []string{strconv.Itoa(pid)})[pid]
				lsof, _ := exec.Command("lsof", "-n", "-P", "-w", "-F", "ftn", "-p", strconv.Itoa(pid)).Output()
				pwdx, pwdxErr := exec.Command("pwdx", strconv.Itoa(pid)).Output()
				if s, err = fsys.Take(pid); err != nil {
					t.Fatalf("Take(%d): %v", pid, err)
				}
				problems = append(comparePs(s, ps), compareLsof(s, lsof)...)
				problems = append(problems, comparePwdx(s, string(pwdx), pwdxErr)...)
				if rest(before) == rest(s) && len(problems) == 0 {
					break
				}
				if rest(before) != rest(s) {
					problems = append(problems, fmt.Sprintf("never at rest: %s, then %s", rest(before), rest(s)))
				}
				if try == 50 {
					for _, p := range problems {
						t.Error(p)
					}
					break
				}
				time.Sleep(10 * time.Millisecond) // a process at rest gives no event
			}
			compareLocks(t, s, locks)
		})
	}

	// A root process seen by nobody: the facts ps can give without
	// privilege must still agree; what dcheck could not read is absent.
	t.Run("a root process seen as nobody", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to look as nobody")
		}
		pid := pids["a correct shell daemon, locked pidfile"]
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", self(t))
		cmd.Env = append(os.Environ(), "DCHECK_TEST_HELPER=inspect", fmt.Sprintf("DCHECK_PID=%d", pid))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("inspect as nobody: %v", err)
		}
		var asNobody struct {
			Process checks.ProcessView `json:"process"`
		}
		if err := json.Unmarshal(out, &asNobody); err != nil {
			t.Fatal(err)
		}
		psOut, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"ps", "-o", psColumns, "-p", strconv.Itoa(pid)).Output()
		if err != nil {
			t.Fatal(err)
		}
		row := parsePs(t, psOut)[pid]
		v := asNobody.Process
		if v.PPID != row.ppid || v.PGID != row.pgid || v.SID != row.sid || v.State != string(row.stat[0]) || v.Threads != row.nlwp {
			t.Errorf("as nobody, dcheck saw ppid %d pgid %d sid %d state %s threads %d; ps saw %+v", v.PPID, v.PGID, v.SID, v.State, v.Threads, row)
		}
		if len(v.FDs) > 0 || v.Unreadable["fds"] == "" {
			t.Errorf("as nobody, dcheck listed descriptors of a root process (%d) without saying they were unreadable", len(v.FDs))
		}
	})
}

const psColumns = "pid=,ppid=,pgid=,sid=,tpgid=,tty=,stat=,nlwp=,blocked=,ignored=,caught="

type psRow struct {
	ppid, pgid, sid, tpgid, nlwp int
	tty, stat                    string
	blocked, ignored, caught     uint64
}

func psFacts(t *testing.T, pids []string) map[int]psRow {
	t.Helper()
	out, err := exec.Command("ps", "-o", psColumns, "-p", strings.Join(pids, ",")).Output()
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	return parsePs(t, out)
}

func parsePs(t *testing.T, out []byte) map[int]psRow {
	t.Helper()
	rows := map[int]psRow{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 11 {
			t.Fatalf("ps line %q", line)
		}
		n := func(s string) int { v, _ := strconv.Atoi(s); return v }
		x := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
		rows[n(f[0])] = psRow{ppid: n(f[1]), pgid: n(f[2]), sid: n(f[3]), tpgid: n(f[4]), tty: f[5], stat: f[6],
			nlwp: n(f[7]), blocked: x(f[8]), ignored: x(f[9]), caught: x(f[10])}
	}
	return rows
}

// rest is what the tools compare of a snapshot, for telling two looks
// apart: the stat and status facts, the descriptors, the directory.
func rest(s *proc.Snapshot) string {
	var fds []string
	for _, d := range s.FDs {
		fds = append(fds, fmt.Sprintf("%d=%s", d.Num, d.Target))
	}
	return fmt.Sprintf("%d/%d/%d/%d %c %d threads %d tty %x/%x/%x cwd %s fds %s", s.Stat.PPID, s.Stat.PGRP, s.Stat.Session,
		s.Stat.TPGID, s.Stat.State, s.Stat.Threads, s.Stat.TTY, uint64(s.Status.SigBlocked), uint64(s.Status.SigIgnored),
		uint64(s.Status.SigCaught), s.Cwd.Path, strings.Join(fds, ","))
}

// comparePs lists where ps and the snapshot disagree.
func comparePs(s *proc.Snapshot, ps psRow) []string {
	var problems []string
	st := s.Stat
	if st.PPID != ps.ppid || st.PGRP != ps.pgid || st.Session != ps.sid || st.TPGID != ps.tpgid {
		problems = append(problems, fmt.Sprintf("ppid/pgid/sid/tpgid: dcheck %d/%d/%d/%d, ps %d/%d/%d/%d", st.PPID, st.PGRP, st.Session, st.TPGID, ps.ppid, ps.pgid, ps.sid, ps.tpgid))
	}
	if st.State != ps.stat[0] {
		problems = append(problems, fmt.Sprintf("state: dcheck %c, ps %s", st.State, ps.stat))
	}
	if int(st.Threads) != ps.nlwp {
		problems = append(problems, fmt.Sprintf("threads: dcheck %d, ps %d", st.Threads, ps.nlwp))
	}
	// ps names a terminal as its device: pts/N, ttyN, or ? for none.
	major, minor := st.TTYDevice()
	tty := "?"
	switch {
	case st.TTY == 0:
	case major == 136:
		tty = fmt.Sprintf("pts/%d", minor)
	case major == 4:
		tty = fmt.Sprintf("tty%d", minor)
	default:
		tty = fmt.Sprintf("%d,%d", major, minor)
	}
	if tty != ps.tty {
		problems = append(problems, fmt.Sprintf("terminal: dcheck %s (tty_nr %d), ps %s", tty, st.TTY, ps.tty))
	}
	// procps reads SigBlk, SigIgn and SigCgt of /proc/PID/status, as dcheck
	// does; a zombie has none to show (both print zeroes).
	if uint64(s.Status.SigBlocked) != ps.blocked || uint64(s.Status.SigIgnored) != ps.ignored || uint64(s.Status.SigCaught) != ps.caught {
		problems = append(problems, fmt.Sprintf("signals blocked/ignored/caught: dcheck %016x/%016x/%016x, ps %016x/%016x/%016x",
			uint64(s.Status.SigBlocked), uint64(s.Status.SigIgnored), uint64(s.Status.SigCaught), ps.blocked, ps.ignored, ps.caught))
	}
	return problems
}

// compareLsof compares the descriptors with lsof's (-F: f fd, t type, n
// name). lsof also lists cwd, rtd, txt and mem entries: only numbered
// descriptors are compared.
func compareLsof(s *proc.Snapshot, out []byte) []string {
	var problems []string
	type entry struct{ typ, name string }
	theirs := map[int]entry{}
	fd := -1
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		switch line[0] {
		case 'f':
			n, err := strconv.Atoi(line[1:])
			if err != nil {
				fd = -1 // cwd, rtd, txt, mem...
				continue
			}
			fd = n
			theirs[fd] = entry{}
		case 't':
			if fd >= 0 {
				e := theirs[fd]
				e.typ = line[1:]
				theirs[fd] = e
			}
		case 'n':
			if fd >= 0 {
				e := theirs[fd]
				e.name = line[1:]
				theirs[fd] = e
			}
		}
	}
	if s.FDsErr != nil {
		if len(theirs) > 0 {
			problems = append(problems, fmt.Sprintf("dcheck could not list the descriptors (%v), lsof listed %d", s.FDsErr, len(theirs)))
		}
		return problems
	}
	// Descriptors whose link cannot be read (permission denied, as for an
	// init run by another user namespace's root): lsof -F leaves them out,
	// and its plain listing says "readlink: Permission denied" for each.
	var unreadable []int
	for _, d := range s.FDs {
		if d.StatErr != nil {
			unreadable = append(unreadable, d.Num)
		}
	}
	if len(unreadable) > 0 {
		plain, _ := exec.Command("lsof", "-n", "-P", "-p", strconv.Itoa(s.PID)).Output()
		denied := 0
		for _, line := range strings.Split(string(plain), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && strings.Contains(line, "Permission denied") {
				if _, err := strconv.Atoi(strings.TrimRight(f[3], "rwuW")); err == nil {
					denied++
				}
			}
		}
		if denied != len(unreadable) {
			problems = append(problems, fmt.Sprintf("dcheck could not read %d descriptors, lsof says permission denied for %d", len(unreadable), denied))
		}
		return problems
	}
	var ours []int
	for _, d := range s.FDs {
		ours = append(ours, d.Num)
		e, ok := theirs[d.Num]
		if !ok {
			continue // counted below
		}
		// Files, directories and devices: lsof names them by path, as the
		// fd link does (lsof adds " (deleted)" where the kernel did).
		if e.typ == "REG" || e.typ == "DIR" || e.typ == "CHR" {
			want := d.Target
			if d.Deleted {
				want += " (deleted)"
			}
			if e.name != want && !(d.Kind == proc.FDChar && strings.HasPrefix(d.Target, "/dev/pts/") && e.name == d.Target) {
				problems = append(problems, fmt.Sprintf("fd %d: dcheck %q (%s), lsof %q (%s)", d.Num, want, d.Kind, e.name, e.typ))
			}
		}
	}
	var lsofs []int
	for n := range theirs {
		lsofs = append(lsofs, n)
	}
	slices.Sort(lsofs)
	if !slices.Equal(ours, lsofs) {
		problems = append(problems, fmt.Sprintf("descriptors: dcheck %d (%v...), lsof %d (%v...)", len(ours), ours[:min(len(ours), 8)], len(lsofs), lsofs[:min(len(lsofs), 8)]))
	}
	return problems
}

// comparePwdx compares the working directory with pwdx's. pwdx prints the
// link text, with the kernel's " (deleted)" when the directory is gone.
func comparePwdx(s *proc.Snapshot, out string, err error) []string {
	if s.CwdErr != nil {
		if err == nil {
			return []string{fmt.Sprintf("dcheck could not read the cwd (%v), pwdx said %q", s.CwdErr, out)}
		}
		return nil
	}
	if err != nil {
		return []string{fmt.Sprintf("pwdx failed (%v) where dcheck read %q", err, s.Cwd.Path)}
	}
	_, theirs, _ := strings.Cut(strings.TrimSpace(out), ": ")
	ours := s.Cwd.Path
	if s.Cwd.Deleted {
		ours += " (deleted)"
	}
	if ours != theirs {
		return []string{fmt.Sprintf("cwd: dcheck %q, pwdx %q", ours, theirs)}
	}
	return nil
}

type lockRow struct {
	typ, path, majmin string
	ino               uint64
}

// lslocksByPID lists /proc/locks through lslocks: pid -> locks. lslocks
// names the pid that took a lock; with flock(1) --no-fork that is the
// process that holds it.
func lslocksByPID(t *testing.T) map[int][]lockRow {
	t.Helper()
	out, err := exec.Command("lslocks", "-n", "-r", "-o", "PID,TYPE,INODE,MAJ:MIN,PATH").Output()
	if err != nil {
		t.Fatalf("lslocks: %v", err)
	}
	rows := map[int][]lockRow{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 5)
		if len(f) < 5 {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		ino, _ := strconv.ParseUint(f[2], 10, 64)
		rows[pid] = append(rows[pid], lockRow{typ: f[1], ino: ino, majmin: f[3], path: f[4]})
	}
	return rows
}

// compareLocks: each lock lslocks gives this pid is on a descriptor whose
// fdinfo shows it, of the same class; each lock an fdinfo shows is in
// /proc/locks. /proc/locks names the process that took a lock: a flock
// shared across fork (a shell's flock(1) on an inherited descriptor) is
// listed under that process, even after it exited, and lslocks cannot
// then name its path ("/..."): the comparison goes by device and inode.
func compareLocks(t *testing.T, s *proc.Snapshot, all map[int][]lockRow) {
	t.Helper()
	for _, l := range all[s.PID] {
		found := false
		for _, d := range s.FDs {
			if !l.on(d) {
				continue
			}
			for _, ours := range d.Info.Locks {
				if ours.Class == l.typ {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("lslocks: %s lock on %s; dcheck sees it on no descriptor", l.typ, l.path)
		}
	}
	for _, d := range s.FDs {
		for _, ours := range d.Info.Locks {
			found := false
			for _, rows := range all {
				found = found || slices.ContainsFunc(rows, func(l lockRow) bool { return l.typ == ours.Class && l.on(d) })
			}
			if !found {
				t.Errorf("fd %d %s: dcheck sees a %s lock, lslocks has none on that file", d.Num, d.Target, ours.Class)
			}
		}
	}
}

// goComm is the test binary's name as /proc/PID/comm shows it (15 bytes).
func goComm(t *testing.T) string {
	base := filepath.Base(self(t))
	return base[:min(15, len(base))]
}

// on reports whether the lock is on the file d has open.
func (l lockRow) on(d proc.FD) bool {
	return l.ino == d.Ino && l.majmin == fmt.Sprintf("%d:%d", unix.Major(d.Dev), unix.Minor(d.Dev))
}
