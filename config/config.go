// Package config reads dcheck's configuration file (dcheck --config FILE):
// what to expect of particular daemons, and the waivers their owners
// accepted. The same file serves "dcheck PID", "dcheck scan" and "dcheck
// verify".
//
//	daemons:
//	  - match: {exe: /usr/sbin/nginx, user: root}  # or comm: NAME, or pidfile: PATH
//	    name: nginx                          # optional: what reports call it
//	    profile: sysv
//	    umask: "0027"
//	    cwd: [/var/lib/nginx]
//	    reaper: 1
//	    waive:
//	      - rule: DC201
//	        reason: "runs from its data directory by design"
//	        expires: 2027-06-30               # optional; after it the waiver no longer applies
//
// A process gets the first entry whose every match key matches: exe is the
// path of the program it runs (/proc/PID/exe, without " (deleted)"), comm
// its name as ps shows it, pidfile a pidfile that names it (or the one
// given with --pidfile), and user the user it runs as (a name or a uid:
// its real and effective uids are that user's). An entry's fields replace
// the command line's for the processes it matches; a field left out keeps
// the command line's.
//
// What each key trusts: any user can run a program under any comm (a copy
// of /bin/sleep named "nginx"), so comm alone lets an impostor take the
// entry, its name and its waivers; exe trusts the file system (a program
// only root could have put there), pidfile the pidfile's directory, and
// user the kernel's uids. Give exe or pidfile, and user, for anything a
// fleet alerts on.
//
// The file is checked whole before anything is judged. Unknown keys,
// values of the wrong kind, unknown rules, a waiver without a reason and a
// date that is not YYYY-MM-DD are errors that name the file, the line and
// the field.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/proc"
)

// File is a parsed configuration file.
type File struct {
	Path    string   // Where it was read from, for messages
	Daemons []Daemon // In file order: the first match wins
}

// Daemon is one entry: which processes it matches and what to expect of
// them. A zero field leaves the command line's choice in place.
type Daemon struct {
	Line    int            // Line of the entry in the file
	Match   Match          // Which processes; at least one key is set
	Name    string         // What reports call the daemon; empty: not named
	Profile checks.Profile // Empty: the command line's
	Umask   *uint32        // Nil: the command line's
	Cwds    []string       // Directories besides "/" it may run in; nil: the command line's
	Reaper  int            // Zero: the command line's
	Waivers []checks.Waiver
}

// Match selects processes. Every key that is set must match.
type Match struct {
	Exe     string // The program's absolute path
	Comm    string // The process name (/proc/PID/comm)
	PidFile string // A pidfile that names the process
	User    string // The user it runs as, as written: a name or a uid
	UID     int    // User's uid; -1 when User is empty
}

// Error is a mistake in the file, with where it is.
type Error struct {
	Path  string // The file
	Line  int    // 1-based; 0 when the whole file is at fault
	Field string // The key at fault, as a path: "daemons[2].waive[0].expires"; may be empty
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Errors are the mistakes found in a file, every one of them (up to
// maxErrors), in the order of the file.
type Errors []*Error

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, x := range e {
		s[i] = x.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap gives each *Error, for errors.As.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, x := range e {
		out[i] = x
	}
	return out
}

// maxErrors is how many mistakes Parse reports: a file that is not a
// config at all does not print thousands of lines.
const maxErrors = 20

// Load reads and checks the file at path. The error is an *Error for a
// mistake in the file, or the file system's error (which names path).
func Load(path string) (*File, error) {
	data, err := safepath.ReadRegular(path, MaxFile, false)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// MaxFile is the largest --config file Load reads: 1 MiB, hundreds of
// times what a fleet's expectations take. A larger one, and anything but
// a regular file (/dev/zero, a FIFO), is refused without reading it.
const MaxFile = 1 << 20

// Parse checks data, the contents of the file at path.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(path, data, err)
	}
	if len(doc.Content) == 0 {
		return f, nil // an empty file: no entries
	}
	p := parser{path: path}
	top := doc.Content[0]
	p.mapping(top, "", map[string]func(*yaml.Node, string){
		"daemons": func(n *yaml.Node, field string) {
			for i, item := range p.sequence(n, field) {
				if d, ok := p.daemon(item, fmt.Sprintf("%s[%d]", field, i)); ok {
					f.Daemons = append(f.Daemons, d)
				}
			}
		},
	})
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return f, nil
}

// syntaxError places a YAML syntax error on the line at fault. The
// parser's "yaml: line N: MSG" names the line where the construct it was
// reading began (yaml.v3 reports libyaml's context mark), which is often
// lines before the mistake: a mapping left open on line 4 is reported on
// line 3, a wrong indentation on line 3 as line 1. The line at fault is
// the first after it whose prefix of the file fails with the same message
// (a prefix cut inside a legitimately open construct fails with another
// one). At most maxSyntaxScan lines and maxSyntaxBytes of prefixes are
// tried; past them, the parser's line stands.
func syntaxError(path string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var context int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &context); scanErr != nil {
		return &Error{Path: path, Msg: msg}
	}
	_, what, _ := strings.Cut(msg, ": ")
	e := &Error{Path: path, Line: context, Msg: what}
	if context == 0 {
		return e
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	end, parsed := 0, 0
	for k := 1; k <= len(lines) && k < context+maxSyntaxScan && parsed < maxSyntaxBytes; k++ {
		end += len(lines[k-1])
		if k < context {
			continue
		}
		parsed += end
		var n yaml.Node
		perr := yaml.Unmarshal(data[:end], &n)
		if perr == nil {
			continue
		}
		if _, w, _ := strings.Cut(strings.TrimPrefix(perr.Error(), "yaml: "), ": "); w == what {
			e.Line = k
			break
		}
	}
	return e
}

// The bounds of syntaxError's search: a config file of MaxFile is looked
// into for as long as a few parses of it take.
const (
	maxSyntaxScan  = 2000
	maxSyntaxBytes = 4 * MaxFile
)

// parser walks the YAML tree and keeps every error (each mistake once: a
// value that is wrong is not checked further).
type parser struct {
	path string
	errs Errors
}

func (p *parser) fail(n *yaml.Node, field, format string, a ...any) {
	switch {
	case len(p.errs) < maxErrors:
		p.errs = append(p.errs, &Error{Path: p.path, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, a...)})
	case len(p.errs) == maxErrors:
		p.errs = append(p.errs, &Error{Path: p.path, Msg: fmt.Sprintf("more mistakes after line %d: the first %d are above", p.errs[maxErrors-1].Line, maxErrors)})
	}
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping calls each key's handler with its value; a key without one is
// an error listing those there are.
func (p *parser) mapping(n *yaml.Node, field string, keys map[string]func(*yaml.Node, string)) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, field, "want a mapping of %s, got %s", strings.Join(sortedKeys(keys), ", "), kind(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			p.fail(k, join(field, k.Value), "given twice (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		h, ok := keys[k.Value]
		if !ok {
			p.fail(k, join(field, k.Value), "unknown key (want one of %s)", strings.Join(sortedKeys(keys), ", "))
			continue
		}
		h(v, join(field, k.Value))
	}
}

func sortedKeys(m map[string]func(*yaml.Node, string)) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (p *parser) sequence(n *yaml.Node, field string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, field, "want a list, got %s", kind(n))
		return nil
	}
	return n.Content
}

// str returns a non-empty scalar.
func (p *parser) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		p.fail(n, field, "want a non-empty string, got %s", kind(n))
		return ""
	}
	return n.Value
}

func (p *parser) daemon(n *yaml.Node, field string) (Daemon, bool) {
	d := Daemon{Line: n.Line}
	before := len(p.errs)
	matched := false
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"match": func(v *yaml.Node, f string) {
			matched = true
			inMatch := len(p.errs)
			p.mapping(v, f, map[string]func(*yaml.Node, string){
				"exe": func(v *yaml.Node, f string) {
					if d.Match.Exe = p.str(v, f); d.Match.Exe != "" && !filepath.IsAbs(d.Match.Exe) {
						p.fail(v, f, "want an absolute path, got %q", d.Match.Exe)
					}
				},
				"comm": func(v *yaml.Node, f string) {
					if d.Match.Comm = p.str(v, f); len(d.Match.Comm) > 15 {
						p.fail(v, f, "%q is longer than 15 bytes: the kernel keeps only the first 15 of a process name", d.Match.Comm)
					}
				},
				"pidfile": func(v *yaml.Node, f string) {
					if d.Match.PidFile = p.str(v, f); d.Match.PidFile != "" && !filepath.IsAbs(d.Match.PidFile) {
						p.fail(v, f, "want an absolute path, got %q", d.Match.PidFile)
					}
				},
				"user": func(v *yaml.Node, f string) {
					if d.Match.User = p.str(v, f); d.Match.User == "" {
						return
					}
					uid, err := lookupUID(d.Match.User)
					if err != nil {
						p.fail(v, f, "%v", err)
					}
					d.Match.UID = uid
				},
			})
			if d.Match.User == "" {
				d.Match.UID = -1
			}
			if d.Match.Exe == "" && d.Match.Comm == "" && d.Match.PidFile == "" && len(p.errs) == inMatch {
				p.fail(v, f, "names no process: give exe, comm or pidfile (and user, if you like)")
			}
		},
		"name": func(v *yaml.Node, f string) { d.Name = p.str(v, f) },
		"profile": func(v *yaml.Node, f string) {
			s := p.str(v, f)
			if s == "" {
				return
			}
			prof, err := checks.ParseProfile(s)
			if err != nil {
				p.fail(v, f, "%v", err)
			}
			d.Profile = prof
		},
		"umask": func(v *yaml.Node, f string) {
			s := p.str(v, f)
			u, err := strconv.ParseUint(s, 8, 32)
			if s != "" && (err != nil || u > 0o777) {
				p.fail(v, f, "want an octal mode from 0000 to 0777 (quote it: \"0027\"), got %q", s)
			}
			u32 := uint32(u)
			d.Umask = &u32
		},
		"cwd": func(v *yaml.Node, f string) {
			items := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				items = v.Content
			}
			for i, it := range items {
				fi := f
				if v.Kind == yaml.SequenceNode {
					fi = fmt.Sprintf("%s[%d]", f, i)
				}
				dir := p.str(it, fi)
				if dir != "" && !filepath.IsAbs(dir) {
					p.fail(it, fi, "want an absolute path, got %q", dir)
				}
				d.Cwds = append(d.Cwds, filepath.Clean(dir))
			}
		},
		"reaper": func(v *yaml.Node, f string) {
			s := p.str(v, f)
			pid, err := strconv.Atoi(s)
			if s != "" && (err != nil || pid <= 0) {
				p.fail(v, f, "want a positive pid, got %q", s)
			}
			d.Reaper = pid
		},
		"waive": func(v *yaml.Node, f string) {
			for i, item := range p.sequence(v, f) {
				if w, ok := p.waiver(item, fmt.Sprintf("%s[%d]", f, i)); ok {
					for _, o := range d.Waivers {
						if o.Rule == w.Rule {
							p.fail(item, fmt.Sprintf("%s[%d].rule", f, i), "%s is waived twice in this entry", w.Rule)
						}
					}
					d.Waivers = append(d.Waivers, w)
				}
			}
		},
	})
	if !matched && n.Kind == yaml.MappingNode {
		p.fail(n, field, "no match: say which processes the entry is for (match: {exe: PATH})")
	}
	return d, len(p.errs) == before
}

func (p *parser) waiver(n *yaml.Node, field string) (checks.Waiver, bool) {
	var w checks.Waiver
	before := len(p.errs)
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"rule": func(v *yaml.Node, f string) {
			id := p.str(v, f)
			if id == "" {
				return
			}
			r, ok := checks.Lookup(id)
			if !ok {
				p.fail(v, f, "no rule %q (dcheck rules lists them)", id)
				return
			}
			w.Rule = r.ID
		},
		"reason": func(v *yaml.Node, f string) { w.Reason = p.str(v, f) },
		"expires": func(v *yaml.Node, f string) {
			s := p.str(v, f)
			if s == "" {
				return
			}
			t, err := time.ParseInLocation(time.DateOnly, s, time.Local)
			if err != nil {
				p.fail(v, f, "want a date YYYY-MM-DD, got %q", s)
			}
			w.Expires = t
		},
	})
	if len(p.errs) == before {
		switch {
		case w.Rule == "":
			p.fail(n, join(field, "rule"), "missing: which rule is waived")
		case w.Reason == "":
			p.fail(n, join(field, "reason"), "missing: a waiver must say why the finding is accepted")
		}
	}
	return w, len(p.errs) == before
}

// ErrNoMatch is returned by Lookup when no entry matches the process.
var ErrNoMatch = errors.New("no entry matches")

// Lookup returns the first entry matching process s. pidfile is the
// pidfile already known for it ("" if none).
func (f *File) Lookup(s *proc.Snapshot, pidfile string) (*Daemon, error) {
	for i := range f.Daemons {
		if f.Daemons[i].matches(s, pidfile) {
			return &f.Daemons[i], nil
		}
	}
	return nil, ErrNoMatch
}

func (d *Daemon) matches(s *proc.Snapshot, pidfile string) bool {
	m := d.Match
	if m.Exe != "" && (s.ExeErr != nil || s.Exe.Path != m.Exe) {
		return false
	}
	if m.Comm != "" && s.Stat.Comm != m.Comm {
		return false
	}
	if m.User != "" && (s.Status.UIDs[0] != m.UID || s.Status.UIDs[1] != m.UID) {
		return false
	}
	if m.PidFile != "" && m.PidFile != pidfile {
		// A pidfile of the entry names the process: the scan's way of
		// knowing which pidfile belongs to whom.
		if pid, err := proc.ReadPid(m.PidFile); err != nil || pid != s.PID {
			return false
		}
	}
	return true
}

// Tailor applies the entry matching s, if any, to pol. It has the
// signature of checks.Policy.Tailor.
func (f *File) Tailor(s *proc.Snapshot, pol *checks.Policy) {
	d, err := f.Lookup(s, pol.PidFile)
	if err != nil {
		return
	}
	if d.Profile != "" {
		pol.Profile, pol.ProfileFrom = d.Profile, checks.ProfileFromConfig
	}
	if d.Umask != nil {
		pol.Umask = d.Umask
	}
	if d.Cwds != nil {
		pol.Cwds = d.Cwds
	}
	if d.Reaper != 0 {
		pol.Reaper = d.Reaper
	}
	if d.Name != "" {
		pol.Name = d.Name
	}
	if d.Match.PidFile != "" && pol.PidFile == "" {
		pol.PidFile = d.Match.PidFile
	}
	pol.Waivers = d.Waivers
}

// lookupUID is the uid of user, a name in the user database or a decimal
// uid.
func lookupUID(name string) (int, error) {
	if uid, err := strconv.Atoi(name); err == nil {
		if uid < 0 {
			return -1, fmt.Errorf("uid %d is negative", uid)
		}
		return uid, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return -1, fmt.Errorf("no user %q: %v", name, err)
	}
	return strconv.Atoi(u.Uid)
}
