package pidtext

import (
	"errors"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  error
	}{
		{"1", 1, nil},
		{"4242", 4242, nil},
		{"4194305", 4194305, nil}, // above the kernel's limit: no process has it, but it is a pid
		{"2147483647", MaxPID, nil},
		{"2147483648", 0, ErrRange},
		{"0", 0, ErrRange},
		{"-5", 0, ErrRange},
		{"+5", 0, ErrSyntax},
		{"05", 0, ErrSyntax},
		{"007", 0, ErrSyntax},
		{"", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
		{" 5", 0, ErrSyntax},
		{"5\n", 0, ErrSyntax},
		{"0x10", 0, ErrSyntax},
		{"99999999999", 0, ErrSyntax}, // more digits than any pid_t
		{"1e3", 0, ErrSyntax},
	} {
		got, err := Parse([]byte(tc.in))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// FuzzParse: whatever it accepts is exactly how Go writes that pid.
func FuzzParse(f *testing.F) {
	f.Add([]byte("4242"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pid, err := Parse(data)
		if err == nil && (pid < 1 || pid > MaxPID || strconv.Itoa(pid) != string(data)) {
			t.Errorf("accepted %q as %d", data, pid)
		}
	})
}
