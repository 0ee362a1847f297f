package unitfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SystemSearchPath is where the systemd system manager loads unit files
// from, first first (systemd.unit(5), "Unit File Load Path"), with
// Debian's /lib/systemd/system for systems without the merged /usr.
var SystemSearchPath = []string{
	"/etc/systemd/system.control",
	"/run/systemd/system.control",
	"/run/systemd/transient",
	"/run/systemd/generator.early",
	"/etc/systemd/system",
	"/etc/systemd/system.attached",
	"/run/systemd/system",
	"/run/systemd/system.attached",
	"/run/systemd/generator",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
	"/run/systemd/generator.late",
}

// ErrNotInstalled is returned by Find when no directory of the search
// path holds the unit.
var ErrNotInstalled = errors.New("no unit file in the search path")

// Find returns the file systemd loads for the unit name from the
// directories dirs (SystemSearchPath when nil), and its drop-ins in the
// order systemd applies them. An instance of a template
// ("getty@tty1.service") is loaded from its own file when there is one,
// else the template's ("getty@.service"). Drop-ins come from NAME.d/,
// the template's TEMPLATE.d/ and the type's "service.d/" in every
// directory, ordered by file name; a file name in the instance's
// directory hides it in the template's and the type's, and in an earlier
// directory of the search path, in a later one.
func Find(name string, dirs []string) (string, []string, error) {
	if dirs == nil {
		dirs = SystemSearchPath
	}
	if strings.ContainsRune(name, '/') || name == "" {
		return "", nil, fmt.Errorf("%w: %q is not a unit name", ErrUnit, name)
	}
	names := []string{name}
	if tmpl, ok := templateOf(name); ok {
		names = append(names, tmpl)
	}
	path := ""
	for _, n := range names {
		for _, d := range dirs {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				path = p
				break
			}
		}
		if path != "" {
			break
		}
	}
	if path == "" {
		return "", nil, fmt.Errorf("%w: %s (looked in %s)", ErrNotInstalled, name, strings.Join(dirs, ", "))
	}
	// The most specific first: a file name there hides the same name in
	// the template's and the type's.
	var dropDirs []string
	for _, n := range names {
		dropDirs = append(dropDirs, n+".d")
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		dropDirs = append(dropDirs, name[i+1:]+".d")
	}
	byName := map[string]string{}
	for _, dd := range dropDirs {
		for _, d := range dirs {
			entries, err := os.ReadDir(filepath.Join(d, dd))
			if err != nil {
				continue
			}
			for _, e := range entries {
				if !strings.HasSuffix(e.Name(), ".conf") {
					continue
				}
				if _, seen := byName[e.Name()]; !seen {
					byName[e.Name()] = filepath.Join(d, dd, e.Name())
				}
			}
		}
	}
	var order []string
	for n := range byName {
		order = append(order, n)
	}
	slices.Sort(order)
	dropIns := make([]string, len(order))
	for i, n := range order {
		dropIns[i] = byName[n]
	}
	return path, dropIns, nil
}

// templateOf returns the template of an instance name: "a@b.service"
// gives "a@.service".
func templateOf(name string) (string, bool) {
	at := strings.IndexByte(name, '@')
	dot := strings.LastIndexByte(name, '.')
	if at < 0 || dot < at || at+1 == dot {
		return "", false
	}
	return name[:at+1] + name[dot:], true
}

// RunFacts are what a service's files say of how systemd runs it, read
// leniently: only these directives are read, so a unit dcheck could not
// verify (Type=oneshot, a "!" prefix) still has them.
type RunFacts struct {
	// Type is the last Type= given, else dbus when BusName= is set
	// (systemd.service(5)), else simple.
	Type Type
	// PIDFile is PIDFile=, a path below /run when relative, as systemd
	// makes it; empty when unset, or when it holds a specifier (%t...),
	// which only systemd can expand for certain.
	PIDFile string
	// UMask is UMask=, DefaultUMask when unset.
	UMask uint32
}

// ReadRunFacts reads the RunFacts of the service in path, after its
// drop-ins (a drop-in that vanished since Find listed it is passed over).
func ReadRunFacts(path string, dropIns []string) (RunFacts, error) {
	var (
		rf      = RunFacts{UMask: DefaultUMask}
		busName bool
	)
	for _, file := range append([]string{path}, dropIns...) {
		opts, err := readOptions(file)
		if errors.Is(err, fs.ErrNotExist) && file != path {
			continue
		}
		if err != nil {
			return RunFacts{}, fmt.Errorf("%w: %w", ErrUnit, err)
		}
		for _, o := range opts {
			if o.Section != "Service" {
				continue
			}
			v := strings.TrimSpace(o.Value)
			switch o.Name {
			case "Type":
				rf.Type = Type(v)
			case "BusName":
				busName = v != ""
			case "UMask":
				rf.UMask = DefaultUMask
				if m, err := strconv.ParseUint(v, 8, 32); err == nil && m <= 0o777 {
					rf.UMask = uint32(m)
				}
			case "PIDFile":
				switch {
				case strings.Contains(v, "%"), v == "":
					rf.PIDFile = ""
				case filepath.IsAbs(v):
					rf.PIDFile = filepath.Clean(v)
				default:
					rf.PIDFile = filepath.Join("/run", v)
				}
			}
		}
	}
	if rf.Type == "" {
		rf.Type = Simple
		if busName {
			rf.Type = "dbus"
		}
	}
	return rf, nil
}
