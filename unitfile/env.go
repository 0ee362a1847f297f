package unitfile

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dcheck/dcheck/internal/safepath"
)

// basePath is the PATH systemd gives system services.
const basePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Env is the service's environment as systemd builds it: PATH, then
// Environment=, then each EnvironmentFile= (whose settings override), then
// extra (NOTIFY_SOCKET, MAINPID, WATCHDOG_USEC, ...). A later setting of a
// name replaces an earlier one, in place.
func (s *Service) Env(extra ...string) ([]string, error) {
	env := []string{basePath}
	at := map[string]int{"PATH": 0} // name -> index in env: linear in the settings
	set := func(kv string) {
		name, _, _ := strings.Cut(kv, "=")
		if i, ok := at[name]; ok {
			env[i] = kv
			return
		}
		at[name] = len(env)
		env = append(env, kv)
	}
	for _, kv := range s.Environment {
		set(kv)
	}
	for _, f := range s.EnvironmentFiles {
		kvs, err := readEnvFile(f.Path)
		if errors.Is(err, fs.ErrNotExist) && f.Optional {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("EnvironmentFile=%s: %w", f.Path, err)
		}
		for _, kv := range kvs {
			set(kv)
		}
	}
	for _, kv := range extra {
		set(kv)
	}
	return env, nil
}

// EnvMap is Env as a map, for Command.Expand.
func EnvMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		m[name] = value
	}
	return m
}

// MaxEnvFile is the most of an EnvironmentFile= dcheck reads: 1 MiB.
const MaxEnvFile = 1 << 20

// readEnvFile reads an EnvironmentFile=: NAME=VALUE lines, # and ;
// comments, blank lines, values optionally quoted, a trailing backslash
// continuing the line. The daemon may own the file's directory and put
// anything there before the next start: it is read as a regular file
// only, without following a symbolic link and without waiting (a FIFO
// there once hung the start for good), at most MaxEnvFile bytes, in time
// linear in its size.
func readEnvFile(path string) ([]string, error) {
	data, err := safepath.ReadRegular(path, MaxEnvFile, true)
	if err != nil {
		return nil, err
	}
	var (
		out     []string
		pending strings.Builder // a line continued with a backslash
	)
	for n, raw := range strings.Split(string(data), "\n") {
		if strings.HasSuffix(raw, `\`) {
			pending.WriteString(strings.TrimSuffix(raw, `\`))
			continue
		}
		line := raw
		if pending.Len() > 0 {
			pending.WriteString(raw)
			line = pending.String()
			pending.Reset()
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(strings.TrimPrefix(name, "export "))
		if !ok || name == "" || !isNameStart(name[0]) || strings.IndexFunc(name, func(r rune) bool { return r > 127 || !isNameChar(byte(r)) }) >= 0 {
			return nil, fmt.Errorf("line %d: %q is not NAME=VALUE", n+1, truncate(line, 80))
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		out = append(out, name+"="+value)
	}
	return out, nil
}

// truncate cuts s to at most n bytes, saying so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
