//go:build !linux

package sdemu

import "time"

// Without the notify facility the harness offers no NOTIFY_SOCKET: a
// message it cannot credit to a pid is no evidence. These are never
// called.

// CreditSender does nothing here.
func CreditSender(int) {}

// NotifyOOBSize is 0 here.
var NotifyOOBSize = 0

// NotifySender credits no message here.
func NotifySender(_ []byte, at time.Time) (int, int, time.Time) { return 0, -1, at }
