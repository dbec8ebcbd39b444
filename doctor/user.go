package doctor

import (
	"fmt"

	"github.com/minibuild/minibuild/userns"
)

// checkUser says who runs minibuild and how it builds for them.
func checkUser(root bool, name string, uid int, optedOut bool) Check {
	c := Check{Name: "user"}
	switch {
	case root:
		c.Detail = "root: builds run without a user namespace"
	case optedOut:
		c.Status = Warning
		c.Detail = fmt.Sprintf("%s (uid %d) with %s set: minibuild runs without a user namespace, and builds that need root fail", name, uid, userns.OptOutEnv)
		c.Fix = "unset " + userns.OptOutEnv
	default:
		c.Detail = fmt.Sprintf("%s (uid %d): builds run as root of a user namespace", name, uid)
	}
	return c
}

// checkSubIDs says which subordinate IDs the user has.
func checkSubIDs(root bool, m userns.Mapping) Check {
	c := Check{Name: "subordinate IDs"}
	switch {
	case root:
		c.Detail = "not needed as root"
	case m.Err != nil:
		c.Status = Missing
		c.Detail = m.Err.Error()
	case len(m.UIDRanges) == 0 || len(m.GIDRanges) == 0:
		file := m.SubUID
		if len(m.UIDRanges) > 0 {
			file = m.SubGID
		}
		c.Status = Missing
		c.Detail = fmt.Sprintf("none for %s in %s: builds map one ID, so files a build gives other owners (COPY --chown=1000, a package that adds users) fail", m.User, file)
		c.Fix = m.AddRanges()
	default:
		c.Detail = fmt.Sprintf("%s: %s, %s", m.User, describeRanges(m.UIDRanges, "uids", m.SubUID), describeRanges(m.GIDRanges, "gids", m.SubGID))
	}
	return c
}

// describeRanges says how many IDs rs holds and where: "65536 uids (100000-165535) in /etc/subuid".
func describeRanges(rs []userns.Range, what, file string) string {
	s := fmt.Sprintf("%d %s (", userns.Total(rs), what)
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += r.String()
	}
	return s + ") in " + file
}
