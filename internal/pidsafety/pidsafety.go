// Package pidsafety is the one definition of a pidfile that no user but
// root and its owners can control: daemonize refuses to trust (or signal
// through) any other, and rule DC302 fails a daemon whose pidfile is not
// one. Whoever reads a pidfile trusts it, often as root: a user who can
// write it, or replace it, can make root signal any process.
package pidsafety

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dcheck/dcheck/internal/safepath"
)

// Stat is what the definition reads of the pidfile or its directory, as
// stat(2) gives it: the owner, the group and st_mode (type and mode bits,
// sticky bit included).
type Stat struct {
	UID, GID uint32
	Mode     uint32
}

const (
	groupWrite = 0o020
	otherWrite = 0o002
)

func trusted(uid uint32, owners []uint32) bool {
	return uid == 0 || slices.Contains(owners, uid)
}

// DirProblems says what lets another user replace a pidfile in the
// directory dir (its path), by safepath's one rule for a directory
// another user could change: it belongs to a user other than root and
// owners, or group (other than root's group 0) or others may write it
// without the sticky bit. None when it is safe. owners are the users
// trusted besides root: the daemon's, or daemonize's caller.
func DirProblems(d Stat, dir string, owners ...uint32) []string {
	if err := safepath.Trust(owners).CheckMode(dir, d.UID, d.GID, d.Mode); err != nil {
		return []string{"its directory " + err.Error()}
	}
	return nil
}

// FileProblems says what lets another user write the pidfile at path: it
// belongs to a user other than root and owners (in a sticky directory
// they made it; elsewhere they were given it), or group or others may
// write it. None when it is safe. Whether it is a regular file reached
// without a symbolic link is the caller's to check, on the descriptor it
// opened.
func FileProblems(f Stat, path string, owners ...uint32) []string {
	var p []string
	if !trusted(f.UID, owners) {
		p = append(p, fmt.Sprintf("%s belongs to uid %d, neither root nor %s", path, f.UID, ownerWords(owners)))
	}
	if perm := f.Mode & 0o7777; perm&(groupWrite|otherWrite) != 0 {
		p = append(p, fmt.Sprintf("%s (mode %04o) is writable by group or others", path, perm))
	}
	return p
}

func ownerWords(owners []uint32) string {
	var uniq []string
	for _, o := range owners {
		if w := fmt.Sprint(o); o != 0 && !slices.Contains(uniq, w) {
			uniq = append(uniq, w)
		}
	}
	switch len(uniq) {
	case 0:
		return "anyone else"
	case 1:
		return "uid " + uniq[0]
	}
	return "uids " + strings.Join(uniq, ", ")
}
