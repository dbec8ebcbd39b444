package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// checkOverlay mounts overlayfs in a temporary directory of the store
// root's file system, as a build's steps would: in a mount namespace of
// its own and, for an ordinary user, a user namespace with userxattr.
func checkOverlay(root, nsOK bool, storeRoot string) Check {
	c := Check{Name: "overlay"}
	release := kernelRelease()
	if !root && !nsOK {
		c.Status = Warning
		c.Detail = "not checked: no user namespace to mount it in"
		return c
	}
	if !root && !kernelAtLeast(release, 5, 11) {
		c.Status = Warning
		c.Detail = fmt.Sprintf("kernel %s: overlayfs in a user namespace needs 5.11; builds use the native snapshotter (each step's rootfs copied)", release)
		c.Fix = "a kernel of 5.11 or later"
		return c
	}
	base := existingAncestor(storeRoot)
	dir, err := os.MkdirTemp(base, ".minibuild-doctor-")
	if err != nil {
		c.Status = Warning
		c.Detail = fmt.Sprintf("not checked: %v", err)
		return c
	}
	defer os.RemoveAll(dir)
	cmd := probe(probeOverlay, dir)
	where := "in a mount namespace"
	if root {
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	} else {
		cmd.Args = append(cmd.Args, "userxattr")
		oneIDNamespace(cmd)
		where = "in a user namespace (userxattr)"
	}
	if err := run(cmd); err != nil {
		c.Status = Warning
		c.Detail = fmt.Sprintf("cannot be mounted %s on %s (%v): builds use the native snapshotter (each step's rootfs copied)", where, base, err)
		c.Fix = "a store root (--root, MINIBUILD_ROOT) on a local ext4, xfs or btrfs"
		return c
	}
	c.Detail = fmt.Sprintf("mountable %s on %s, kernel %s", where, base, release)
	return c
}

// existingAncestor is dir, or its nearest ancestor that exists.
func existingAncestor(dir string) string {
	dir = filepath.Clean(dir)
	for {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// mountProbe runs in the probe process: it mounts an overlay of dir's
// lower, upper and work directories on merged, writes a file and
// removes a lower one through it (a whiteout), and unmounts it.
func mountProbe(dir string, userxattr bool) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mounts private: %w", err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(p(d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(p("lower/old"), []byte("old\n"), 0o644); err != nil {
		return err
	}
	data := overlayOptions(userxattr) + ",lowerdir=" + p("lower") + ",upperdir=" + p("upper") + ",workdir=" + p("work")
	if err := unix.Mount("overlay", p("merged"), "overlay", 0, data); err != nil {
		return fmt.Errorf("mount -t overlay: %w", err)
	}
	err := os.WriteFile(p("merged/new"), []byte("new\n"), 0o644)
	if err == nil {
		err = os.Remove(p("merged/old"))
	}
	if uerr := unix.Unmount(p("merged"), 0); err == nil && uerr != nil {
		err = fmt.Errorf("unmounting: %w", uerr)
	}
	if err != nil {
		return fmt.Errorf("writing through the overlay: %w", err)
	}
	// What the overlay made inside (its work directory) goes while this
	// process may still remove it.
	return os.RemoveAll(dir)
}

// overlayOptions are the snapshotter's options (no index, redirects nor
// metacopy), with userxattr in a user namespace. There the kernel
// refuses redirect_dir=off ("conflicting options: userxattr,
// redirect_dir=follow": off still follows redirects, which userxattr
// forbids); redirect_dir=nofollow, its default there, is what it takes.
func overlayOptions(userxattr bool) string {
	if userxattr {
		return "userxattr,index=off,redirect_dir=nofollow,metacopy=off"
	}
	return "index=off,redirect_dir=off,metacopy=off"
}
