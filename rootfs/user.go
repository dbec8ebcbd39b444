package rootfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxID is the largest uid or gid accepted, as in moby/sys/user.
const maxID = 1<<31 - 1

// User is a resolved user specification.
type User struct {
	// UID and GID are the numeric user and primary group.
	UID, GID int
	// AdditionalGIDs are the groups of /etc/group that list the user by name
	// (only for USER/RUN with no explicit group, as Docker does).
	AdditionalGIDs []int
	// Home is the user's home directory from /etc/passwd, "/" when unknown.
	Home string
}

// LookupUser resolves a user specification — "user", "uid", "user:group",
// "uid:gid", "user:gid" or "uid:group" — against the rootfs's /etc/passwd
// and /etc/group with Docker's rules. Numbers are ids and need no entry; a
// missing file is the same as an empty one; the name "root" without an entry
// is 0. Without an explicit group, the gid is the user's primary gid from
// /etc/passwd; for a numeric uid absent from /etc/passwd it is 0 (USER, RUN)
// or, when forChown is set, the uid itself (COPY/ADD --chown, BuildKit's
// rule). forChown also skips the supplementary groups and reads a file only
// for a name. The files must be regular and at most 1 MiB.
func (r *Root) LookupUser(spec string, forChown bool) (User, error) {
	userArg, groupArg := splitSpec(spec)
	uidArg, isUID, err := parseID(userArg)
	if err != nil {
		return User{}, err
	}
	gidArg, isGID, err := parseID(groupArg)
	if err != nil {
		return User{}, err
	}
	var u User
	var name string
	if forChown {
		u, err = r.chownUser(userArg, uidArg, isUID)
	} else {
		u, name, err = r.execUser(userArg, uidArg, isUID)
	}
	if err != nil {
		return User{}, err
	}
	if groupArg == "" && (forChown || name == "") {
		return u, nil
	}
	var groups []groupEntry
	if groupArg == "" || !isGID {
		if groups, err = r.readGroups(); err != nil {
			return User{}, err
		}
	}
	if groupArg == "" {
		u.AdditionalGIDs = memberOf(groups, name)
		return u, nil
	}
	if u.GID, err = groupID(groups, groupArg, gidArg, isGID); err != nil {
		return User{}, err
	}
	return u, nil
}

// chownUser resolves the user part of a --chown spec: a number is both uid and
// gid, a name is looked up in /etc/passwd.
func (r *Root) chownUser(userArg string, uidArg int, isUID bool) (User, error) {
	u := User{Home: "/"}
	if isUID {
		u.UID, u.GID = uidArg, uidArg
		return u, nil
	}
	if userArg == "" {
		return u, nil
	}
	users, err := r.readUsers()
	if err != nil {
		return User{}, err
	}
	for _, e := range users {
		if e.name == userArg {
			return userFromEntry(e), nil
		}
	}
	if userArg == "root" {
		return u, nil
	}
	return User{}, errNoUser(userArg)
}

// execUser resolves the user part of a USER spec as moby/sys/user's
// GetExecUser does; it also returns the matched passwd name, if any.
func (r *Root) execUser(userArg string, uidArg int, isUID bool) (User, string, error) {
	users, err := r.readUsers()
	if err != nil {
		return User{}, "", err
	}
	for _, e := range users {
		var match bool
		switch {
		case userArg == "":
			match = e.uid == 0
		case isUID:
			match = e.uid == uidArg
		default:
			match = e.name == userArg
		}
		if match {
			return userFromEntry(e), e.name, nil
		}
	}
	switch {
	case isUID:
		return User{UID: uidArg, Home: "/"}, "", nil
	case userArg == "" || userArg == "root":
		return User{Home: "/"}, "", nil
	}
	return User{}, "", errNoUser(userArg)
}

// groupID resolves an explicit group: a number is a gid, a name is looked up.
func groupID(groups []groupEntry, groupArg string, gidArg int, isGID bool) (int, error) {
	if isGID {
		return gidArg, nil
	}
	for _, g := range groups {
		if g.name == groupArg {
			return g.gid, nil
		}
	}
	if groupArg == "root" {
		return 0, nil
	}
	return 0, fmt.Errorf("unable to find group %s: no matching entries in group file", groupArg)
}

// memberOf returns the gids of the groups that list name as a member.
func memberOf(groups []groupEntry, name string) []int {
	var gids []int
	for _, g := range groups {
		for _, m := range g.members {
			if m == name {
				gids = append(gids, g.gid)
				break
			}
		}
	}
	return gids
}

// userFromEntry turns a passwd entry into a User.
func userFromEntry(e passwdEntry) User {
	home := e.home
	if home == "" {
		home = "/"
	}
	return User{UID: e.uid, GID: e.gid, Home: home}
}

// errNoUser is Docker's error for an unknown user name.
func errNoUser(name string) error {
	return fmt.Errorf("unable to find user %s: no matching entries in passwd file", name)
}

// readUsers reads and parses the rootfs's /etc/passwd; a missing one is empty.
func (r *Root) readUsers() ([]passwdEntry, error) {
	data, err := r.readBounded("/etc/passwd", maxUserFileBytes)
	if err != nil {
		return nil, err
	}
	return parsePasswd(data), nil
}

// readGroups reads and parses the rootfs's /etc/group; a missing one is empty.
func (r *Root) readGroups() ([]groupEntry, error) {
	data, err := r.readBounded("/etc/group", maxUserFileBytes)
	if err != nil {
		return nil, err
	}
	return parseGroup(data), nil
}

// splitSpec splits "user:group" as moby/sys/user does: fields after the
// second are ignored.
func splitSpec(spec string) (userArg, groupArg string) {
	f := strings.Split(spec, ":")
	return field(f, 0), field(f, 1)
}

// parseID parses a uid or gid argument: it reports whether s is a number,
// and fails for a number outside 0..2147483647.
func parseID(s string) (int, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	id, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) || err == nil && (id < 0 || id > maxID) {
		return 0, true, fmt.Errorf("%s: uids and gids must be in range 0-%d", s, maxID)
	}
	if err != nil {
		return 0, false, nil
	}
	return id, true, nil
}
