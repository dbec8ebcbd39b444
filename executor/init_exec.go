package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/minibuild/minibuild/internal/idmap"
	"golang.org/x/sys/unix"
)

// execProcess, running inside the new root, switches to the user's working directory,
// limits, capabilities and credentials, closes every inherited descriptor but 0-2 on exec
// and executes the command. It returns only on failure.
func execProcess(cfg *initConfig) error {
	unix.Umask(0o022)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: cfg.Nofile, Max: cfg.Nofile}); err != nil {
		return fmt.Errorf("setting open-files limit: %w", err)
	}
	if err := unix.Chdir(cfg.Cwd); err != nil {
		return fmt.Errorf("entering working directory %s: %w", cfg.Cwd, err)
	}
	argv0, err := lookPath(cfg.Args[0], lookupEnv(cfg.Env, "PATH"))
	if err != nil {
		return err
	}
	if err := dropBoundingCapabilities(); err != nil {
		return err
	}
	groups := make([]int, len(cfg.Groups))
	for i, g := range cfg.Groups {
		groups[i] = int(g)
	}
	// The syscall package changes credentials on every thread of the runtime.
	if err := setgroups(groups); err != nil {
		return err
	}
	if err := syscall.Setgid(int(cfg.GID)); err != nil {
		return fmt.Errorf("setting group %d: %w", cfg.GID, idmap.UnmappedError(err, -1, int(cfg.GID)))
	}
	if err := syscall.Setuid(int(cfg.UID)); err != nil {
		return fmt.Errorf("setting user %d: %w", cfg.UID, idmap.UnmappedError(err, int(cfg.UID), -1))
	}
	// A credential change clears the parent-death signal; the run must still die with its parent.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("setting parent-death signal: %w", err)
	}
	if err := closeOnExecFrom(3); err != nil {
		return err
	}
	err = unix.Exec(argv0, cfg.Args, cfg.Env)
	return fmt.Errorf("exec %s: %w", cfg.Args[0], err)
}

// setgroups sets the supplementary groups. In a user namespace whose gid_map
// was written without newgidmap (unshare --map-root-user), setgroups(2) is
// denied: that is no failure where the process already has exactly these
// groups (root's [0], when the caller's own group is mapped to 0), and
// otherwise fails naming the reason.
func setgroups(groups []int) error {
	err := syscall.Setgroups(groups)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EPERM) && idmap.SetgroupsDenied():
		if have, gerr := syscall.Getgroups(); gerr == nil && sameSet(have, groups) {
			return nil
		}
		return fmt.Errorf("setting supplementary groups %v: setgroups is denied in this user namespace (its gid_map was written without newgidmap)", groups)
	case errors.Is(err, unix.EINVAL):
		for _, g := range groups {
			if uerr := idmap.UnmappedError(err, -1, g); uerr != err {
				return fmt.Errorf("setting supplementary groups %v: %w", groups, uerr)
			}
		}
	}
	return fmt.Errorf("setting supplementary groups: %w", err)
}

// sameSet reports whether a and b hold the same numbers.
func sameSet(a, b []int) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}

// lookPath finds file like a shell does: as given when it holds a slash, else in the
// directories of pathEnv (already inside the new root).
func lookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		if err := isExecutable(file); err != nil {
			return "", fmt.Errorf("exec %s: %w", file, err)
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		if isExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec %s: executable file not found in $PATH", file)
}

// isExecutable reports why p is not an executable regular file, or nil.
func isExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return unix.EACCES
	}
	return nil
}

// dropBoundingCapabilities removes every capability outside Docker's default set from
// the bounding set, so the command never gains them, not even as root.
func dropBoundingCapabilities() error {
	last, err := lastCapability()
	if err != nil {
		return err
	}
	keep := make(map[int]bool)
	for _, c := range defaultCapabilities() {
		keep[c.num] = true
	}
	for c := 0; c <= last; c++ {
		if keep[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d: %w", c, err)
		}
	}
	return nil
}

// lastCapability returns the highest capability number the kernel knows.
func lastCapability() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("reading cap_last_cap: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parsing cap_last_cap: %w", err)
	}
	return n, nil
}

// closeOnExecFrom marks every descriptor from first up as close-on-exec, so nothing of
// minibuild (CVE-2024-21626) or of the Go runtime reaches the command.
func closeOnExecFrom(first int) error {
	if err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing descriptors: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < first {
			continue
		}
		// The descriptor ReadDir used is already closed and may fail here.
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	}
	return nil
}
