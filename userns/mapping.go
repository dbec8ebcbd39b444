package userns

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// Mapping is how the calling user is mapped into the namespace: its own
// uid and gid to 0, and its subordinate ranges from 1 on.
type Mapping struct {
	User      string // the user's name, or its uid when the user has none
	UID, GID  int
	UIDRanges []Range
	GIDRanges []Range
	SubUID    string // the files the ranges were read from
	SubGID    string
	NewUIDMap string // the helpers' paths, "" when not found
	NewGIDMap string
	// Err is why the subordinate ID files could not be read, if one could not.
	Err error
}

// LookupMapping finds the calling user's subordinate IDs and the helpers
// that map them.
func LookupMapping(opts ...Option) Mapping {
	return lookupMapping(newConfig(opts))
}

func lookupMapping(c config) Mapping {
	m := Mapping{UID: os.Getuid(), GID: os.Getgid(), SubUID: c.subuid, SubGID: c.subgid}
	name := ""
	if u, err := user.LookupId(strconv.Itoa(m.UID)); err == nil {
		name = u.Username
	}
	m.User = name
	if m.User == "" {
		m.User = strconv.Itoa(m.UID)
	}
	var errU, errG error
	m.UIDRanges, errU = ReadSubIDs(c.subuid, name, m.UID)
	m.GIDRanges, errG = ReadSubIDs(c.subgid, name, m.UID)
	if errU != nil {
		m.Err = errU
	} else if errG != nil {
		m.Err = errG
	}
	m.NewUIDMap, _ = exec.LookPath(c.newuidmap)
	m.NewGIDMap, _ = exec.LookPath(c.newgidmap)
	return m
}

// OneID reports why the mapping can map only the user's own ID, or ""
// when it maps the subordinate ranges too.
func (m Mapping) OneID() string {
	switch {
	case m.Err != nil:
		return m.Err.Error()
	case len(m.UIDRanges) == 0:
		return fmt.Sprintf("no subordinate IDs for user %s in %s", m.User, m.SubUID)
	case len(m.GIDRanges) == 0:
		return fmt.Sprintf("no subordinate IDs for user %s in %s", m.User, m.SubGID)
	case m.NewUIDMap == "" && m.NewGIDMap == "":
		return "newuidmap and newgidmap are not installed"
	case m.NewUIDMap == "":
		return "newuidmap is not installed"
	case m.NewGIDMap == "":
		return "newgidmap is not installed"
	}
	return ""
}

// AddRanges is the command that gives the user the subordinate ranges
// it lacks, or "" when it has both.
func (m Mapping) AddRanges() string {
	if len(m.UIDRanges) > 0 && len(m.GIDRanges) > 0 {
		return ""
	}
	r := SuggestRange(m.SubUID, m.SubGID)
	cmd := "sudo usermod"
	if len(m.UIDRanges) == 0 {
		cmd += " --add-subuids " + r.String()
	}
	if len(m.GIDRanges) == 0 {
		cmd += " --add-subgids " + r.String()
	}
	return cmd + " " + m.User
}

// InstallHelpers is how to install newuidmap and newgidmap, or "" when both are there.
func (m Mapping) InstallHelpers() string {
	if m.NewUIDMap != "" && m.NewGIDMap != "" {
		return ""
	}
	return "sudo apt-get install uidmap (Debian, Ubuntu; shadow-utils elsewhere)"
}

// fix says what gives the user a mapping of more than one ID, or "".
func (m Mapping) fix() string {
	var parts []string
	if m.Err == nil {
		if c := m.AddRanges(); c != "" {
			parts = append(parts, "add a range with: "+c)
		}
	}
	if c := m.InstallHelpers(); c != "" {
		parts = append(parts, "install newuidmap and newgidmap with: "+c)
	}
	return strings.Join(parts, ", and ")
}

// Warning is the one line Reexec prints when it maps one ID only, or "".
func (m Mapping) Warning() string {
	why := m.OneID()
	if why == "" {
		return ""
	}
	w := "minibuild: " + why + ": building with one ID (files a build gives other owners, as COPY --chown=1000 or a package that adds users, will fail)"
	if fix := m.fix(); fix != "" {
		w += "; " + fix
	}
	return w
}

// maps are the uid and gid maps the namespace gets: one ID each, or with the ranges.
func (m Mapping) maps() (uids, gids []syscall.SysProcIDMap) {
	if m.OneID() != "" {
		return idMap(m.UID, nil), idMap(m.GID, nil)
	}
	return idMap(m.UID, m.UIDRanges), idMap(m.GID, m.GIDRanges)
}
