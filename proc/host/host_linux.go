package host

import "github.com/dcheck/dcheck/proc"

// Reader returns the proc filesystem mounted at /proc.
func Reader() (proc.Reader, error) {
	fsys, err := proc.NewFS("")
	if err != nil {
		return nil, err
	}
	return fsys, nil
}
