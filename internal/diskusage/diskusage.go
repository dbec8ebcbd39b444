package diskusage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Size sums the allocated size of path and, if it is a directory, of the
// files under it, not following links nor crossing into other file
// systems; what cannot be read (a missing path, a denied directory)
// counts as nothing.
func Size(path string) int64 {
	var total int64
	root, err := os.Lstat(path)
	if err != nil {
		return 0
	}
	rootDev := devOf(root)
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if d.IsDir() && p != path && devOf(fi) != rootDev {
			return filepath.SkipDir
		}
		total += allocated(fi)
		return nil
	})
	return total
}

// devOf is the device of the file fi describes.
func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Dev
	}
	return 0
}

// allocated is the disk space of the file fi describes.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
