package rootfs

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// maxSymlinks is how many symlinks MkdirAll follows before giving up with
// ELOOP, as Linux's MAXSYMLINKS.
const maxSymlinks = 40

// MkdirAll creates the directory path and any missing parents, each with mode
// and owner uid:gid; existing directories are left untouched. Existing
// symlinks on the way, the last one included, are followed within the root —
// even dangling ones, whose targets are then created — as Docker does for a
// WORKDIR or COPY destination through a base image's symlink. It returns the
// image paths it created, in order, after symlinks were resolved (for "/a/c"
// with a -> /b, that is "/b/c"); on error, those created so far. An existing
// non-directory on the way is an error naming it.
func (r *Root) MkdirAll(p string, mode fs.FileMode, uid, gid int) ([]string, error) {
	clean := cleanPath(p)
	if r.fd < 0 {
		return nil, pathErr("mkdirall", clean, fs.ErrClosed)
	}
	w := &walker{root: r.fd}
	defer w.close()
	var created []string
	rest := splitPath(clean)
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			w.pop()
			continue
		}
		step, err := w.step(name, mode, uid, gid)
		if step.created {
			created = append(created, w.path())
		}
		if err != nil {
			return created, pathErr("mkdirall", clean, err)
		}
		if step.link != "" {
			links++
			if links > maxSymlinks {
				return created, pathErr("mkdirall", clean, unix.ELOOP)
			}
			if strings.HasPrefix(step.link, "/") {
				w.popAll()
			}
			rest = append(splitPath(step.link), rest...)
		}
	}
	return created, nil
}

// splitPath splits a path into its components, dropping empty ones.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// walker walks down from the root one component at a time, holding a
// descriptor for every directory entered, so ".." is answered from its own
// stack and never by the kernel.
type walker struct {
	root  int
	fds   []int
	names []string
}

// stepResult tells what walker.step found: a directory it entered (created
// or not), or a symlink it did not enter.
type stepResult struct {
	created bool
	link    string
}

// cur returns the descriptor of the current directory.
func (w *walker) cur() int {
	if len(w.fds) == 0 {
		return w.root
	}
	return w.fds[len(w.fds)-1]
}

// path returns the image path of the current directory.
func (w *walker) path() string {
	return "/" + strings.Join(w.names, "/")
}

// push enters the directory fd called name.
func (w *walker) push(fd int, name string) {
	w.fds = append(w.fds, fd)
	w.names = append(w.names, name)
}

// pop goes up one directory; at the root it stays there.
func (w *walker) pop() {
	if n := len(w.fds); n > 0 {
		closeFd(w.fds[n-1])
		w.fds = w.fds[:n-1]
		w.names = w.names[:n-1]
	}
}

// popAll goes back to the root.
func (w *walker) popAll() {
	for len(w.fds) > 0 {
		w.pop()
	}
}

// close releases every descriptor the walker holds (not the root's).
func (w *walker) close() { w.popAll() }

// step looks at name in the current directory: an existing directory is
// entered, a missing one is created (mode, owner) and entered, a symlink is
// returned unentered, anything else is an error.
func (w *walker) step(name string, mode fs.FileMode, uid, gid int) (stepResult, error) {
	dirfd := w.cur()
	at := strings.TrimSuffix(w.path(), "/") + "/" + name
	for i := 0; ; i++ {
		var st unix.Stat_t
		err := unixfs.RetryErr(func() error { return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
		switch {
		case errors.Is(err, unix.ENOENT):
			err := unixfs.RetryErr(func() error { return unix.Mkdirat(dirfd, name, 0o700) })
			if errors.Is(err, unix.EEXIST) && i < unixfs.MaxRetries {
				continue // appeared meanwhile: look again
			}
			if err != nil {
				return stepResult{}, err
			}
			fd, err := unixfs.Retry(func() (int, error) {
				return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			})
			if err != nil {
				return stepResult{}, err
			}
			w.push(fd, name)
			if err := chownChmod(fd, mode, uid, gid); err != nil {
				return stepResult{created: true}, err
			}
			return stepResult{created: true}, nil
		case err != nil:
			return stepResult{}, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			fd, err := unixfs.Retry(func() (int, error) {
				return unix.Openat(dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			})
			if (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOENT)) && i < unixfs.MaxRetries {
				continue // replaced meanwhile: look again
			}
			if err != nil {
				return stepResult{}, err
			}
			w.push(fd, name)
			return stepResult{}, nil
		case unix.S_IFLNK:
			target, err := unixfs.Readlinkat(dirfd, name)
			if err != nil {
				return stepResult{}, err
			}
			if target == "" {
				return stepResult{}, unix.ENOENT
			}
			return stepResult{link: target}, nil
		default:
			return stepResult{}, errNotDir(at)
		}
	}
}
