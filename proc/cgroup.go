package proc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// CgroupLine is one line of /proc/PID/cgroup (cgroups(7)): the hierarchy,
// its controllers and the process's cgroup in it, relative to the
// hierarchy's root as the reader's cgroup namespace sees it.
type CgroupLine struct {
	ID          int      // Hierarchy ID; 0 for the unified (v2) hierarchy
	Controllers []string // Controllers bound to it ("cpu", "name=systemd"); none for v2
	Path        string   // The cgroup, "/system.slice/nginx.service"
}

// Cgroups is the whole of /proc/PID/cgroup.
type Cgroups []CgroupLine

// SystemdPath is the cgroup systemd placed the process in: the unified
// hierarchy's (cgroup v2, and the hybrid layout's "0::" line), else the
// named systemd hierarchy's (v1, "name=systemd"). Empty when neither is
// there.
func (c Cgroups) SystemdPath() string {
	named := ""
	for _, l := range c {
		if l.ID == 0 && len(l.Controllers) == 0 && l.Path != "/" {
			return l.Path
		}
		for _, ctl := range l.Controllers {
			if ctl == "name=systemd" {
				named = l.Path
			}
		}
	}
	if named == "" {
		for _, l := range c {
			if l.ID == 0 && len(l.Controllers) == 0 {
				return l.Path
			}
		}
	}
	return named
}

// parseCgroups parses /proc/PID/cgroup: "ID:CONTROLLERS:PATH" per line.
// The path may hold colons; only the first two separate fields.
func parseCgroups(data []byte) (Cgroups, error) {
	var out Cgroups
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		parts := strings.SplitN(string(line), ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("%w: cgroup: line %q: want ID:CONTROLLERS:PATH", ErrParse, line)
		}
		id, err := strconv.Atoi(parts[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("%w: cgroup: line %q: hierarchy ID %q", ErrParse, line, parts[0])
		}
		l := CgroupLine{ID: id, Path: parts[2]}
		if parts[1] != "" {
			l.Controllers = strings.Split(parts[1], ",")
		}
		out = append(out, l)
	}
	return out, nil
}

// Cgroup reads /proc/PID/cgroup (at most 16 KiB).
func (f *FS) Cgroup(pid int) (Cgroups, error) {
	data, err := readFileBounded(f.path(strconv.Itoa(pid), "cgroup"), maxSmallFile, nil)
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return nil, err
	}
	c, err := parseCgroups(data)
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	return c, nil
}
