package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// OpenFile opens the regular file or directory at path for reading,
// following symlinks within the root. Anything else (a FIFO, a device, a
// socket) is refused with a "not a regular file" error without ever being
// opened for reading, so it cannot block or touch a device.
func (r *Root) OpenFile(p string) (*os.File, error) {
	clean := cleanPath(p)
	f, err := r.openRead(clean, true)
	if err != nil {
		return nil, pathErr("open", clean, err)
	}
	return f, nil
}

// OpenDir returns an O_PATH|O_DIRECTORY descriptor of the directory at path,
// resolved within the root, as an *os.File. It can serve as the directory
// descriptor of *at syscalls, or through "/proc/self/fd/N" as a confined root.
func (r *Root) OpenDir(p string) (*os.File, error) {
	clean := cleanPath(p)
	fd, err := r.openat2(clean, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, pathErr("opendir", clean, err)
	}
	return os.NewFile(uintptr(fd), clean), nil
}

// errNotRegular is the reason given for refusing a file that is neither a
// regular file nor (where allowed) a directory.
func errNotRegular() error { return errors.New("not a regular file") }

// openRead pins the file at clean with O_PATH and checks its type before
// opening it for reading with O_NONBLOCK, then checks that the same inode was
// opened. A regular file's descriptor is returned in blocking mode.
func (r *Root) openRead(clean string, allowDir bool) (*os.File, error) {
	pin, err := r.openat2(clean, unix.O_PATH)
	if err != nil {
		return nil, err
	}
	defer closeFd(pin)
	var want unix.Stat_t
	if err := unix.Fstat(pin, &want); err != nil {
		return nil, err
	}
	if !readable(want.Mode, allowDir) {
		return nil, errNotRegular()
	}
	fd, err := r.openat2(clean, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err != nil {
		return nil, err
	}
	var got unix.Stat_t
	if err := unix.Fstat(fd, &got); err != nil {
		closeFd(fd)
		return nil, err
	}
	if got.Dev != want.Dev || got.Ino != want.Ino || !readable(got.Mode, allowDir) {
		closeFd(fd)
		return nil, fmt.Errorf("file replaced while opening: %w", errNotRegular())
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		closeFd(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), clean), nil
}

// readable reports whether a file of stat mode m may be opened for reading.
func readable(m uint32, allowDir bool) bool {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return true
	case unix.S_IFDIR:
		return allowDir
	}
	return false
}

// readBounded reads the regular file at image path p, which must not exceed
// limit bytes. A missing file (or a non-directory on its way) reads as empty.
func (r *Root) readBounded(p string, limit int64) ([]byte, error) {
	clean := cleanPath(p)
	f, err := r.openRead(clean, false)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clean, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", clean, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", clean, limit)
	}
	return data, nil
}
