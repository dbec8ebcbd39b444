package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/tarutil"
	"github.com/minibuild/minibuild/volume"
	"golang.org/x/sys/unix"
)

// attached is the mounts of one container, with the volumes they use
// held until release.
type attached struct {
	mounts []executor.Mount
	leases []*volume.Lease
}

// release lets the container's volumes go.
func (a *attached) release() error {
	var errs []error
	for _, l := range a.leases {
		errs = append(errs, l.Release())
	}
	return errors.Join(errs...)
}

// attach turns specs into the executor's mounts: a bind's host path must
// exist; a volume is created when missing and, unless NoCopy, filled with
// what the container's rootfs (dir, the image) holds at its target when
// it is new or empty. The mounts are ordered as Docker orders them,
// shallower targets first, so that /data comes before /data/sub whatever
// the order of the flags. On error nothing stays held.
func attach(ctx context.Context, vols *volume.Store, dir string, specs []MountSpec) (*attached, error) {
	a := &attached{}
	if len(specs) == 0 {
		return a, nil
	}
	if err := CheckTargets(specs); err != nil {
		return nil, err
	}
	specs = slices.Clone(specs)
	slices.SortStableFunc(specs, func(x, y MountSpec) int {
		return strings.Count(x.Target, "/") - strings.Count(y.Target, "/")
	})
	root, err := rootfs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, m := range specs {
		mnt := executor.Mount{Type: executor.MountBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Kind == MountVolume {
			if vols == nil {
				_ = a.release()
				return nil, errors.New("run: no volume store to mount volumes from")
			}
			l, err := useVolume(ctx, vols, root, m)
			if err != nil {
				_ = a.release()
				return nil, err
			}
			a.leases = append(a.leases, l)
			mnt.Source = l.Mountpoint
		} else if _, err := os.Stat(m.Source); err != nil {
			_ = a.release()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("run: bind source path does not exist: %s", m.Source)
			}
			return nil, fmt.Errorf("run: bind source path %s: %w", m.Source, err)
		}
		a.mounts = append(a.mounts, mnt)
	}
	return a, nil
}

// useVolume holds the volume m names, filling it from the image's
// directory at m.Target when there is one and m allows it.
func useVolume(ctx context.Context, vols *volume.Store, root *rootfs.Root, m MountSpec) (*volume.Lease, error) {
	var fill volume.Fill
	if !m.NoCopy {
		src, err := root.OpenDir(m.Target)
		switch {
		case err == nil:
			defer src.Close()
			fill = func(dst string) error { return copyUp(ctx, src, dst) }
		case !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR):
			return nil, fmt.Errorf("run: volume %s: the image's %s: %w", m.Source, m.Target, err)
		}
	}
	l, err := vols.Use(ctx, m.Source, fill)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	return l, nil
}

// copyUp copies the directory src (an O_PATH descriptor in the image)
// into the empty directory dst, as Docker fills a new volume: the tree
// with owners, modes, xattrs, links and times (whole seconds), then src's
// own owner and mode. It goes through the layer tar code, whose walk and
// extraction are confined: nothing under src can make it read or write
// outside src and dst.
func copyUp(ctx context.Context, src *os.File, dst string) error {
	from := fmt.Sprintf("/proc/self/fd/%d", src.Fd())
	entries, err := tarutil.DirEntries(from, "")
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		// Clamped far ahead: every mtime is kept.
		opts := tarutil.LayerOptions{Compression: tarutil.Uncompressed, Epoch: time.Now().Add(24 * time.Hour), Clamp: true}
		_, err := tarutil.WriteLayer(pw, entries, opts)
		pw.CloseWithError(err)
	}()
	noChown := os.Geteuid() != 0
	_, err = tarutil.Apply(ctx, dst, pr, tarutil.ApplyOptions{LayerName: "(the image's content)", NoChown: noChown, MaxBytes: -1})
	pr.CloseWithError(io.ErrClosedPipe) // ends the writer if Apply stopped early
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return err
	}
	if !noChown {
		if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return unix.Chmod(dst, st.Mode&0o7777)
}
