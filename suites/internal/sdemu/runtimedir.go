package sdemu

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/unitfile"
)

// RuntimeDirectory= (dcheck verify --unit), as systemd makes it before
// each start of the inactive unit: every missing component below /run
// made root's 0755, the last one given RuntimeDirectoryMode= (default
// 0755) and the unit's User= and Group=.
//
// The harness runs as root, and from the first start on the daemon owns
// its runtime directory: it can put anything there before the next start
// (a symbolic link to a root file where a subdirectory was). So every
// component is opened without following a link and every change is made
// through the descriptor (internal/safepath); only root and the unit's
// user may own a directory on the way. What the run made is removed at
// its end; a directory that was there before is given back its mode and
// owner, so the run leaves the host as it found it.

// RuntimeDirs is what the run did to the unit's runtime directories. Its
// zero value is ready to use, below /run.
type RuntimeDirs struct {
	Root  string         // where they live: "" is /run (tests use another)
	dirs  []*runtimeDir  // in the unit's order, each recorded once
	trust safepath.Trust // root and the unit's user: who may own a directory on the way
}

// runtimeDir is one RuntimeDirectory= path.
type runtimeDir struct {
	rel  string         // below root, normalized by unitfile
	made string         // the outermost component the run made (relative); "" if none
	was  *safepath.Stat // the last component's mode and owner before the run first changed it; nil if the run made it
}

func (r *RuntimeDirs) base() string {
	if r.Root == "" {
		return "/run"
	}
	return r.Root
}

// Prepare makes or fixes each of svc's runtime directories.
func (r *RuntimeDirs) Prepare(svc *unitfile.Service) error {
	if len(svc.RuntimeDirectory) == 0 {
		return nil
	}
	uid, gid := -1, -1
	r.trust = nil
	if svc.User != "" || svc.Group != "" {
		cred, _, err := Credential(svc.User, svc.Group)
		if err != nil {
			return err
		}
		uid, gid = int(cred.Uid), int(cred.Gid)
		// The daemon's own directories are on the way to the ones below
		// them (RuntimeDirectory=foo foo/sub).
		r.trust = safepath.Trust{cred.Uid}
	}
	mode := svc.RuntimeDirectoryMode
	if mode == 0 {
		mode = 0o755
	}
	base, err := safepath.OpenDir(r.base(), nil)
	if err != nil {
		return fmt.Errorf("RuntimeDirectory=: %w", err)
	}
	defer base.Close()
	for _, rel := range svc.RuntimeDirectory {
		dir, walked, err := safepath.MkdirAll(base, rel, 0o755, r.trust)
		rd := r.record(rel, walked)
		if err != nil {
			return fmt.Errorf("RuntimeDirectory=%s: %w", rel, err)
		}
		if len(walked) > 0 && !walked[len(walked)-1].New && rd.was == nil && rd.made == "" {
			st, err := safepath.StatOf(dir)
			if err != nil {
				dir.Close()
				return fmt.Errorf("RuntimeDirectory=%s: %w", rel, err)
			}
			rd.was = &st
		}
		err = safepath.Apply(dir, mode, uid, gid)
		dir.Close()
		if err != nil {
			return fmt.Errorf("RuntimeDirectory=%s: %w", rel, err)
		}
	}
	return nil
}

// record finds or adds rel's record, noting the outermost component the
// run made on its first walk.
func (r *RuntimeDirs) record(rel string, walked []safepath.Made) *runtimeDir {
	i := slices.IndexFunc(r.dirs, func(d *runtimeDir) bool { return d.rel == rel })
	if i < 0 {
		r.dirs = append(r.dirs, &runtimeDir{rel: rel})
		i = len(r.dirs) - 1
	}
	rd := r.dirs[i]
	if rd.made == "" {
		for _, m := range walked {
			if m.New {
				rel, err := filepath.Rel(r.base(), m.Path)
				if err == nil {
					rd.made = rel
				}
				break
			}
		}
	}
	return rd
}

// Remove removes what the run made and gives a directory that was there
// before its mode and owner back, innermost first. It reports what it
// could not do; the run goes on with its cleanup.
func (r *RuntimeDirs) Remove() []error {
	if len(r.dirs) == 0 {
		return nil
	}
	base, err := safepath.OpenDir(r.base(), nil)
	if err != nil {
		return []error{err}
	}
	defer base.Close()
	var errs []error
	for _, rd := range slices.Backward(r.dirs) {
		if rd.was != nil {
			if dir, err := safepath.Open(base, rd.rel, r.trust); err == nil {
				err = safepath.Apply(dir, rd.was.Mode, int(rd.was.UID), int(rd.was.GID))
				dir.Close()
				if err != nil {
					errs = append(errs, err)
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if rd.made != "" {
			if err := safepath.RemoveAll(base, rd.made, r.trust); err != nil {
				errs = append(errs, err)
			}
		}
	}
	r.dirs = nil
	return errs
}
