package sdemu

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// Credential resolves User= and Group= as systemd does: the user's uid,
// its primary group unless Group= names another, its supplementary groups.
func Credential(userName, group string) (*syscall.Credential, string, error) {
	cred := &syscall.Credential{}
	home := "/"
	if userName != "" {
		u, err := lookupUser(userName)
		if err != nil {
			return nil, "", fmt.Errorf("the unit's User=%s: %w", userName, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred.Uid, cred.Gid, home = uint32(uid), uint32(gid), u.HomeDir
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if n, err := strconv.Atoi(id); err == nil {
					cred.Groups = append(cred.Groups, uint32(n))
				}
			}
		}
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			if g, err = user.LookupGroupId(group); err != nil {
				return nil, "", fmt.Errorf("the unit's Group=%s: %w", group, err)
			}
		}
		gid, _ := strconv.Atoi(g.Gid)
		cred.Gid = uint32(gid)
	}
	return cred, home, nil
}

func lookupUser(name string) (*user.User, error) {
	if u, err := user.Lookup(name); err == nil {
		return u, nil
	}
	return user.LookupId(name)
}
