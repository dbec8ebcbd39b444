package executor

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mountPoints are the resolved paths inside the rootfs where a run mounts its file systems.
type mountPoints struct {
	Proc       string `json:"proc"`
	Dev        string `json:"dev"`
	Sys        string `json:"sys"`
	Hosts      string `json:"hosts"`
	ResolvConf string `json:"resolvConf"`
}

// plan is everything both executors prepare the same way before a run: the process with
// its defaults filled in, the working directory, the mount points and the generated
// /etc files. Its close undoes all of it but the working directory.
type plan struct {
	rootfs     string
	rootfd     int
	proc       Process
	mounts     mountPoints
	runDir     string
	hostsFile  string
	resolvFile string
	stubs      *stubSet
	// userMounts are the process's mounts as planned, in order.
	userMounts []plannedMount
	// sources are the bind mounts' source directories mount points were created in.
	sources []*layer
}

// defaultStateDir is where generated files go when the caller names no state directory.
func defaultStateDir() string {
	return filepath.Join(os.TempDir(), "minibuild-executor")
}

// newPlan validates p, fills in its defaults and prepares rootfs for a run.
func newPlan(rootfs, stateDir string, p Process) (pl *plan, err error) {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return nil, errors.New("no command to run")
	}
	switch p.Network {
	case "":
		p.Network = NetworkHost
	case NetworkHost, NetworkNone:
	default:
		return nil, fmt.Errorf("unknown network mode %q (want %q or %q)", p.Network, NetworkHost, NetworkNone)
	}
	if p.Hostname == "" {
		p.Hostname = DefaultHostname
	}
	if err := checkHostname(p.Hostname); err != nil {
		return nil, err
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if !path.IsAbs(p.Cwd) {
		return nil, fmt.Errorf("working directory %q is not absolute", p.Cwd)
	}
	if err := checkMounts(p.Mounts); err != nil {
		return nil, err
	}
	if stateDir == "" {
		stateDir = defaultStateDir()
	}
	abs, err := filepath.Abs(rootfs)
	if err != nil {
		return nil, fmt.Errorf("rootfs path: %w", err)
	}
	rootfd, err := openRoot(abs)
	if err != nil {
		return nil, err
	}
	if isHostRoot(rootfd) {
		unix.Close(rootfd)
		return nil, fmt.Errorf("rootfs %s is the host's root directory", rootfs)
	}
	pl = &plan{rootfs: abs, rootfd: rootfd, stubs: &stubSet{rootfd: rootfd}}
	defer func() {
		if err != nil {
			err = errors.Join(err, pl.close())
			pl = nil
		}
	}()
	if p.Cwd, err = ensurePath(rootfd, p.Cwd, kindDir, nil); err != nil {
		return pl, fmt.Errorf("creating working directory: %w", err)
	}
	p.Env, err = envWithDefaults(p.Env, func() (string, error) { return homeDir(rootfd, p.UID) })
	if err != nil {
		return pl, err
	}
	pl.proc = p
	if err := pl.createMountPoints(); err != nil {
		return pl, err
	}
	if err := pl.writeEtcFiles(stateDir); err != nil {
		return pl, err
	}
	if err := pl.writeMountFiles(); err != nil {
		return pl, err
	}
	return pl, nil
}

// checkHostname refuses a hostname the kernel would reject or that would corrupt /etc/hosts.
func checkHostname(h string) error {
	if len(h) > 64 {
		return fmt.Errorf("hostname %q is longer than 64 bytes", h)
	}
	for _, r := range h {
		if r <= ' ' || r == 0x7f || r == '/' || r == '#' {
			return fmt.Errorf("hostname %q has a space, control character, '/' or '#'", h)
		}
	}
	return nil
}

// isHostRoot reports whether the directory open as fd is the host's "/".
func isHostRoot(fd int) bool {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Stat("/", &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// createMountPoints resolves, and creates where missing, every mount point of a run:
// the standard ones, then the process's mounts across them.
func (pl *plan) createMountPoints() error {
	targets := []struct {
		dst  *string
		path string
		kind entryKind
	}{
		{&pl.mounts.Proc, "/proc", kindDir},
		{&pl.mounts.Dev, "/dev", kindDir},
		{&pl.mounts.Sys, "/sys", kindDir},
		{&pl.mounts.Hosts, "/etc/hosts", kindFile},
		{&pl.mounts.ResolvConf, "/etc/resolv.conf", kindFile},
	}
	// Sealed also on failure, so close restores the parents' times either way.
	defer pl.sealStubs()
	tree := newMountTree(pl.rootfd, pl.stubs)
	for _, t := range targets {
		resolved, err := tree.resolve(t.path, t.kind)
		if err != nil {
			return fmt.Errorf("creating mount point: %w", err)
		}
		// The kernel's file systems go exactly where programs look for them; a link
		// there (as OCI runtimes also refuse) could put proc over the whole rootfs.
		if t.kind == kindDir && resolved != t.path {
			return fmt.Errorf("mount point %s is a symbolic link (to %s), want a directory", t.path, resolved)
		}
		*t.dst = resolved
	}
	pl.standardLayers(tree)
	return pl.planUserMounts(tree)
}

// writeEtcFiles writes the run's hosts and resolv.conf into a new directory under stateDir.
func (pl *plan) writeEtcFiles(stateDir string) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	dir, err := os.MkdirTemp(stateDir, "run-")
	if err != nil {
		return fmt.Errorf("creating run directory: %w", err)
	}
	pl.runDir = dir
	resolv, err := resolvConfContent(pl.proc.Network)
	if err != nil {
		return err
	}
	pl.hostsFile = filepath.Join(dir, "hosts")
	pl.resolvFile = filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(pl.hostsFile, hostsContent(pl.proc.Hostname), 0o644); err != nil {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	if err := os.WriteFile(pl.resolvFile, resolv, 0o644); err != nil {
		return fmt.Errorf("writing resolv.conf: %w", err)
	}
	// WriteFile is subject to the umask; the files must be readable by any user.
	for _, f := range []string{pl.hostsFile, pl.resolvFile} {
		if err := os.Chmod(f, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Base(f), err)
		}
	}
	return nil
}

// close removes the mount points the run created, the run directory, and closes the rootfs.
func (pl *plan) close() error {
	var errs []error
	if pl.stubs != nil {
		errs = append(errs, pl.stubs.remove())
	}
	errs = append(errs, pl.removeSourceStubs())
	if pl.runDir != "" {
		errs = append(errs, RemoveRunDir(pl.runDir))
		pl.runDir = ""
	}
	if pl.rootfd >= 0 {
		unix.Close(pl.rootfd)
		pl.rootfd = -1
	}
	return errors.Join(errs...)
}
