package unixfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
)

// ReadDirNames lists the names in the directory dir, sorted; a missing
// directory is empty. It is for the folders minibuild owns (the root's),
// not for untrusted trees, which are read fd-relative.
func ReadDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}
