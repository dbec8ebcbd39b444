package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountPoints returns the mount points of this process's mount namespace
// that are dir or below it, deepest first, a path once per mount stacked on
// it.
func mountPoints(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	// Later lines are mounted later; deeper paths go first.
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out, nil
}

// unescapeMountinfo decodes the octal escapes (\040 for a space) of a
// mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmount detaches the mount at target, lazily if it is busy. A path that
// is not a mount point is not an error.
func unmount(target string) error {
	err := unix.Unmount(target, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(target, unix.MNT_DETACH)
	}
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return fmt.Errorf("unmounting %q: %w", target, err)
}

// unmountUnder unmounts every mount at or below dir.
func unmountUnder(dir string) error {
	for range 16 {
		mps, err := mountPoints(dir)
		if err != nil || len(mps) == 0 {
			return err
		}
		for _, mp := range mps {
			if err := unmount(mp); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unmounting everything below %q: mounts keep appearing", dir)
}

// removeTree unmounts everything at or below path and removes it, never
// descending into another file system.
func removeTree(path string) error {
	if err := unmountUnder(path); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return fmt.Errorf("removing %q: %w", path, err)
	}
	return removeSameDev(path, st.Dev)
}

// removeSameDev removes path, recursively if it is a directory on the
// device dev, without following symlinks.
func removeSameDev(path string, dev uint64) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return fmt.Errorf("removing %q: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("removing %q: %w", path, err)
		}
		return nil
	}
	if st.Dev != dev {
		return fmt.Errorf("refusing to remove %q: it is on another file system", path)
	}
	f, err := openDir(path)
	if err != nil {
		return fmt.Errorf("removing %q: %w", path, err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("removing %q: %w", path, err)
	}
	for _, name := range names {
		if err := removeSameDev(path+"/"+name, dev); err != nil {
			return err
		}
	}
	if err := unix.Rmdir(path); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing %q: %w", path, err)
	}
	return nil
}
