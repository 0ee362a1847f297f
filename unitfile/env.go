package unitfile

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// basePath is the PATH systemd gives system services.
const basePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Env is the service's environment as systemd builds it: PATH, then
// Environment=, then each EnvironmentFile= (whose settings override), then
// extra (NOTIFY_SOCKET, MAINPID, WATCHDOG_USEC, ...). A later setting of a
// name replaces an earlier one, in place.
func (s *Service) Env(extra ...string) ([]string, error) {
	env := []string{basePath}
	set := func(kv string) {
		name, _, _ := strings.Cut(kv, "=")
		for i, old := range env {
			if strings.HasPrefix(old, name+"=") {
				env[i] = kv
				return
			}
		}
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

// readEnvFile reads an EnvironmentFile=: NAME=VALUE lines, # and ;
// comments, blank lines, values optionally quoted, a trailing backslash
// continuing the line.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	n, pending := 0, ""
	for sc.Scan() {
		n++
		line := pending + sc.Text()
		pending = ""
		if strings.HasSuffix(line, `\`) {
			pending = strings.TrimSuffix(line, `\`)
			continue
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(strings.TrimPrefix(name, "export "))
		if !ok || name == "" || !isNameStart(name[0]) || strings.IndexFunc(name, func(r rune) bool { return r > 127 || !isNameChar(byte(r)) }) >= 0 {
			return nil, fmt.Errorf("line %d: %q is not NAME=VALUE", n, line)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		out = append(out, name+"="+value)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
