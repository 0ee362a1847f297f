package unitfile

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Command lines (systemd.service(5), "Command lines"; systemd.syntax(7)
// for quoting): prefixes, then words separated by white space, each
// unquoted, "double" or 'single' quoted, with C escapes; $NAME as a word
// of its own is replaced by the variable's value split at white space,
// ${NAME} by its value as it is; $$ is a literal $. Specifiers (%n, %t,
// ...) are expanded when the unit is read, variables when the command is
// run (Expand), as systemd does.

// word is one word of a command line: literal text and variable
// references, kept apart until the environment is known.
type word struct {
	parts []part
}

type part struct {
	text  string
	name  string // a variable: ${name} or $name
	whole bool   // $name alone as the word: split at white space
}

// searchPath is where systemd looks for a command given without a path.
const searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func parseCommand(line string, spec func(byte) (string, error)) (Command, error) {
	c := Command{}
	rest := line
	for len(rest) > 0 {
		switch rest[0] {
		case '-':
			c.IgnoreFailure = true
		case '@':
			c.ArgvZero = true
		case ':':
			c.NoSubstitution = true
		case '+':
			c.FullPrivileges = true
		case '!':
			if len(rest) > 1 && rest[1] == '!' {
				// "!!" falls back to "!" only where the kernel lacks
				// ambient capabilities; elsewhere systemd gives User=
				// and AmbientCapabilities=, which the run cannot.
				return c, fmt.Errorf("the \"!!\" prefix (User= with ambient capabilities) is not emulated")
			}
			c.KeepsRoot = true
		default:
			goto words
		}
		rest = rest[1:]
	}
words:
	expanded, err := expandSpecifiersWith(rest, spec)
	if err != nil {
		return c, err
	}
	c.Line = line[:len(line)-len(rest)] + expanded
	// systemd splits the line into words first and expands specifiers in
	// each: what a specifier gives stays in its word, unquoted and
	// unescaped (%i of g@a\x2db.service is a\x2db, checked in systemd
	// 252). So it is escaped here before the line is split.
	literal, _ := expandSpecifiersWith(rest, func(b byte) (string, error) {
		t, err := spec(b)
		return escapeWord(t), err
	})
	if c.words, err = tokenize(literal, !c.NoSubstitution); err != nil {
		return c, err
	}
	if len(c.words) == 0 || c.ArgvZero && len(c.words) < 2 {
		return c, fmt.Errorf("no command")
	}
	return c, nil
}

// Expand returns the command's path and argv with env's variables
// substituted (unset ones are empty). A path without a slash is looked up
// in systemd's fixed search path.
func (c Command) Expand(env map[string]string) (path string, argv []string, err error) {
	for i, w := range c.words {
		var cur strings.Builder
		started := false
		for _, p := range w.parts {
			switch {
			case p.name != "" && p.whole:
				fields := strings.Fields(env[p.name])
				argv = append(argv, fields...)
			case p.name != "":
				cur.WriteString(env[p.name])
				started = true
			default:
				cur.WriteString(p.text)
				started = true
			}
		}
		if started {
			argv = append(argv, cur.String())
		}
		if i == 0 && len(argv) == 0 {
			return "", nil, fmt.Errorf("%s: the command is empty once its variables are substituted", c.Line)
		}
	}
	path = argv[0]
	if c.ArgvZero {
		argv = argv[1:]
	}
	if !strings.ContainsRune(path, '/') {
		found := ""
		for _, dir := range filepath.SplitList(searchPath) {
			if p := filepath.Join(dir, path); isExecutable(p) {
				found = p
				break
			}
		}
		if found == "" {
			return "", nil, fmt.Errorf("%s: %s is not in %s", c.Line, path, searchPath)
		}
		path = found
	} else if !filepath.IsAbs(path) {
		return "", nil, fmt.Errorf("%s: the command must be an absolute path or a bare name", c.Line)
	}
	return path, argv, nil
}

func isExecutable(path string) bool {
	_, err := exec.LookPath(path)
	return err == nil
}

// splitWords splits an Environment= value into its quoted words, no
// variables substituted.
func splitWords(s string) ([]string, error) {
	words, err := tokenize(s, false)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(words))
	for i, w := range words {
		for _, p := range w.parts {
			out[i] += p.text
		}
	}
	return out, nil
}

// tokenize splits s into words, honouring quotes and C escapes, and, when
// vars, $NAME and ${NAME}.
func tokenize(s string, vars bool) ([]word, error) {
	var words []word
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return words, nil
		}
		var w word
		text := func(t string) {
			if n := len(w.parts); n > 0 && w.parts[n-1].name == "" {
				w.parts[n-1].text += t
			} else {
				w.parts = append(w.parts, part{text: t})
			}
		}
		// $NAME alone as a word: split at white space.
		if vars && s[i] == '$' && i+1 < len(s) && isNameStart(s[i+1]) {
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			if j == len(s) || isSpace(s[j]) {
				words = append(words, word{parts: []part{{name: s[i+1 : j], whole: true}}})
				i = j
				continue
			}
		}
		var quote byte
		// plainDollar: the word's first character is a "$" of the line
		// itself (not "$$", not an escape). A word that is "$NAME" once
		// unquoted is then split at white space, quoted or not.
		plainDollar := false
		for i < len(s) && (quote != 0 || !isSpace(s[i])) {
			ch := s[i]
			switch {
			case quote == 0 && (ch == '"' || ch == '\''):
				quote = ch
				i++
			case quote != 0 && ch == quote:
				quote = 0
				i++
			case ch == '\\' && i+1 < len(s) && s[i+1] == '$':
				// Not an escape for systemd: both stay, and the
				// word is no variable.
				text(`\$`)
				i += 2
			case ch == '\\':
				if i+1 == len(s) {
					return nil, fmt.Errorf("a trailing backslash")
				}
				esc, n, err := unescape(s[i+1:])
				if err != nil {
					return nil, err
				}
				text(esc)
				i += 1 + n
			case vars && ch == '$' && i+1 < len(s) && s[i+1] == '$':
				text("$")
				i += 2
			case vars && ch == '$' && i+1 < len(s) && s[i+1] == '{':
				// systemd 252 replaces ${NAME}, and leaves a "${"
				// literal when a ":" comes before the "}" (its
				// ${NAME:-default} is for generators only) or no "}"
				// follows.
				end := strings.IndexAny(s[i+2:], ":}")
				if end < 0 || s[i+2+end] == ':' {
					text("${")
					i += 2
					continue
				}
				w.parts = append(w.parts, part{name: s[i+2 : i+2+end]})
				i += 3 + end
			default:
				if ch == '$' && len(w.parts) == 0 {
					plainDollar = true
				}
				text(string(ch))
				i++
			}
		}
		if quote != 0 {
			return nil, fmt.Errorf("an unterminated %c quote", quote)
		}
		if t := w.parts; vars && plainDollar && len(t) == 1 && t[0].name == "" && isVarName(t[0].text[1:]) {
			w.parts = []part{{name: t[0].text[1:], whole: true}}
		}
		if len(w.parts) == 0 {
			w.parts = []part{{text: ""}} // "" is an empty word
		}
		words = append(words, w)
	}
}

// escapes are the C escapes systemd.syntax(7) allows in a command line,
// besides the characters that stand for themselves (\\ \" \' and the space).
var escapes = map[byte]string{
	'n': "\n", 't': "\t", 'r': "\r", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", 's': " ",
	'\\': "\\", '"': "\"", '\'': "'", ' ': " ", ';': ";",
}

// unescape reads the C escape at the start of s (after the backslash) and
// returns its text and how many bytes it took.
func unescape(s string) (string, int, error) {
	if text, ok := escapes[s[0]]; ok {
		return text, 1, nil
	}
	return "", 0, fmt.Errorf("unsupported escape \\%c", s[0])
}

func isSpace(b byte) bool     { return b == ' ' || b == '\t' || b == '\n' }
func isNameStart(b byte) bool { return b == '_' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' }
func isNameChar(b byte) bool  { return isNameStart(b) || b >= '0' && b <= '9' }

// isVarName reports whether v is an environment variable's name.
func isVarName(v string) bool {
	if v == "" || !isNameStart(v[0]) {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !isNameChar(v[i]) {
			return false
		}
	}
	return true
}

// specifier expands one unit specifier (systemd.unit(5), "Specifiers"),
// for a system service.
func (s *Service) specifier(c byte) (string, error) { return specifier(s.Name, c) }

// specifier expands the specifier c for the system unit named name
// ("nginx.service", "nginx.socket").
func specifier(name string, c byte) (string, error) {
	prefix := strings.TrimSuffix(name, filepath.Ext(name))
	template, instance, _ := strings.Cut(prefix, "@")
	switch c {
	case '%':
		return "%", nil
	case 'n':
		return name, nil
	case 'N':
		return prefix, nil
	case 'p':
		return template, nil
	case 'i':
		return instance, nil
	case 'I':
		return unescapeUnitName(instance), nil
	case 't':
		return "/run", nil
	case 'S':
		return "/var/lib", nil
	case 'C':
		return "/var/cache", nil
	case 'L':
		return "/var/log", nil
	case 'E':
		return "/etc", nil
	case 'T':
		return "/tmp", nil
	case 'V':
		return "/var/tmp", nil
	}
	return "", fmt.Errorf("specifier %%%c is not supported", c)
}

func expandSpecifiersWith(v string, spec func(byte) (string, error)) (string, error) {
	if !strings.ContainsRune(v, '%') {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 == len(v) {
			return "", fmt.Errorf("a trailing %%")
		}
		t, err := spec(v[i+1])
		if err != nil {
			return "", err
		}
		b.WriteString(t)
		i++
	}
	return b.String(), nil
}

// expandPath expands specifiers in a path and makes a relative one
// relative to dir, as PIDFile= is to /run.
func (s *Service) expandPath(v, dir string) (string, error) {
	v, err := expandSpecifiersWith(v, s.specifier)
	if err != nil {
		return "", err
	}
	if v != "" && !filepath.IsAbs(v) {
		v = filepath.Join(dir, v)
	}
	return v, nil
}

// escapeWord escapes t so that tokenize gives it back as it is, in one
// word.
func escapeWord(t string) string {
	if !strings.ContainsAny(t, "\\\"' \t\n") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '\\', '"', '\'', ' ':
			b.WriteByte('\\')
			b.WriteByte(t[i])
		case '\t':
			b.WriteString("\\t")
		case '\n':
			b.WriteString("\\n")
		default:
			b.WriteByte(t[i])
		}
	}
	return b.String()
}

// unescapeUnitName undoes systemd's escaping of a unit name's part
// (systemd-escape(1)): "-" stands for "/", and "\xNN" for the byte NN.
func unescapeUnitName(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '-':
			b.WriteByte('/')
		case v[i] == '\\' && i+3 < len(v) && v[i+1] == 'x':
			if n, err := strconv.ParseUint(v[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
			b.WriteByte(v[i])
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
