package doctor

import (
	"bytes"
	"fmt"
	"os"
	"syscall"

	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/userns"
)

// checkHelpers says whether newuidmap and newgidmap are installed and
// privileged and, when the user has ranges and namespaces work, whether
// they map them. broken says that they are there but fail, and with
// them every command, since minibuild uses them when the user has ranges.
func checkHelpers(root bool, m userns.Mapping, nsOK bool) (c Check, broken bool) {
	c = Check{Name: "newuidmap/newgidmap"}
	if root {
		c.Detail = "not needed as root"
		return c, false
	}
	if fix := m.InstallHelpers(); fix != "" {
		c.Status = Missing
		c.Detail = "not installed: builds map one ID"
		c.Fix = fix
		return c, false
	}
	used := m.OneID() == ""
	for _, p := range []string{m.NewUIDMap, m.NewGIDMap} {
		if why := unprivileged(p); why != "" {
			c.Status = Missing
			c.Detail = why + ": it cannot map subordinate IDs"
			c.Fix = "sudo chmod u+s " + p + " (or reinstall uidmap)"
			return c, used
		}
	}
	c.Detail = m.NewUIDMap + ", " + m.NewGIDMap + " (privileged)"
	if !nsOK || !used {
		return c, false
	}
	if err := probeMapping(m); err != nil {
		c.Status = Missing
		c.Detail = fmt.Sprintf("mapping the subordinate IDs failed: %v", err)
		c.Fix = "check the lines for " + m.User + " in " + m.SubUID + " and " + m.SubGID
		return c, true
	}
	c.Detail += fmt.Sprintf(": mapped %d uids and %d gids", 1+userns.Total(m.UIDRanges), 1+userns.Total(m.GIDRanges))
	return c, false
}

// unprivileged says why the helper at path cannot write ID maps of
// other IDs than the caller's, or "": it must be setuid root or carry
// file capabilities.
func unprivileged(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && st.Uid == 0 && fi.Mode()&os.ModeSetuid != 0 {
		return ""
	}
	if caps, err := unixfs.Lgetxattr(path, "security.capability"); err == nil && len(caps) > 0 {
		return ""
	}
	return path + " is neither setuid root nor has file capabilities"
}

// probeMapping starts a process in a new user namespace and maps the
// user's ranges into it, as a build would.
func probeMapping(m userns.Mapping) error {
	cmd := probe(probeWait)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	werr := m.Write(cmd.Process.Pid)
	stdin.Close()
	err = cmd.Wait()
	if werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("%v %s", err, out.String())
	}
	return nil
}
