//go:build !linux

package proc

import "errors"

// readDgramPeers needs Linux's unix_diag.
func (f *FS) readDgramPeers(int, []uint64) (map[uint64]UnixPeer, error) {
	return nil, errors.New("only Linux tells where a Unix socket is connected")
}

// readOwnPeers needs Linux's unix_diag and /proc.
func (f *FS) readOwnPeers(int, *Snapshot, []FD) (map[uint64]int, error) {
	return nil, errors.New("only Linux tells where a Unix socket is connected")
}
