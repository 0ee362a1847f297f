// Package proctree builds fake proc file systems from text archives, so
// that tests can point proc.FS at a recorded process. Go module zips drop
// symbolic links, which /proc is full of (cwd, root, fd/N); the archive
// describes them as text instead.
//
// The format is txtar's: a comment, then files, each introduced by a line
// "-- NAME --". Names are relative to the tree's root. Two forms are special:
//
//	-- 42/cwd -> / --         a symbolic link 42/cwd pointing at /
//	-- 42/fd/ --              an (empty) directory
//
// A link target that starts with "$TREE/" points inside the tree. Files
// named "environ" or "cmdline" hold NUL-separated entries: write them one
// per line, and each newline becomes a NUL. In any file, "$DEVINO(NAME)" becomes the
// device and inode of the tree's file NAME in /proc/locks form
// (MAJOR:MINOR:INODE, hex:hex:decimal), written after every other file.
package proctree

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
	"golang.org/x/tools/txtar"
)

// File is one entry of an archive.
type File struct {
	Name string // Path relative to the root; ends in "/" for a directory
	Link string // Symlink target, when the entry is a link
	Data []byte // Contents, for a regular file
}

// Archive is a parsed text archive.
type Archive struct {
	Comment string
	Files   []File
}

// Parse parses a text archive (golang.org/x/tools/txtar), and reads the
// link entries' targets out of their names.
func Parse(data []byte) *Archive {
	t := txtar.Parse(data)
	a := &Archive{Comment: string(t.Comment)}
	for _, tf := range t.Files {
		f := File{Name: tf.Name, Data: tf.Data}
		if n, target, isLink := strings.Cut(tf.Name, " -> "); isLink {
			f.Name, f.Link = strings.TrimSpace(n), strings.TrimSpace(target)
		}
		a.Files = append(a.Files, f)
	}
	return a
}

// Write creates the archive's files under root.
func (a *Archive) Write(root string) error {
	var deferred []File
	for _, f := range a.Files {
		if bytes.Contains(f.Data, []byte("$DEVINO(")) {
			deferred = append(deferred, f)
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(p, filepath.Clean(root)+string(filepath.Separator)) {
			return fmt.Errorf("proctree: %q escapes the tree", f.Name)
		}
		switch {
		case strings.HasSuffix(f.Name, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		case f.Link != "":
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			target := f.Link
			if rest, ok := strings.CutPrefix(target, "$TREE/"); ok {
				target = filepath.Join(root, rest)
			}
			if err := os.Symlink(target, p); err != nil {
				return err
			}
			continue
		}
		data := f.Data
		if b := filepath.Base(f.Name); b == "environ" || b == "cmdline" {
			data = bytes.ReplaceAll(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"), []byte{0})
			if len(data) > 0 {
				data = append(data, 0)
			}
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	for _, f := range deferred {
		data, err := expandDevIno(root, f.Data)
		if err != nil {
			return fmt.Errorf("proctree: %s: %w", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(f.Name)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var devIno = regexp.MustCompile(`\$DEVINO\(([^)]+)\)`)

func expandDevIno(root string, data []byte) ([]byte, error) {
	var firstErr error
	out := devIno.ReplaceAllFunc(data, func(m []byte) []byte {
		name := string(devIno.FindSubmatch(m)[1])
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(root, name), &st); err != nil {
			firstErr = err
			return m
		}
		return fmt.Appendf(nil, "%02x:%02x:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), st.Ino)
	})
	return out, firstErr
}

// TB is the part of testing.TB that Build uses.
type TB interface {
	Helper()
	TempDir() string
	Fatalf(format string, args ...any)
}

// Build writes the archive at path into a new temporary directory and
// returns the directory and the archive's comment.
func Build(t TB, path string) (root string, comment string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("proctree: %v", err)
	}
	a := Parse(data)
	root = t.TempDir()
	if err := a.Write(root); err != nil {
		t.Fatalf("proctree: %s: %v", path, err)
	}
	return root, a.Comment
}
