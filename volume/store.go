package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/diskusage"
	"github.com/minibuild/minibuild/rootdir"
)

// ErrNotFound is the error of an operation on a volume that does not exist.
var ErrNotFound = errors.New("no such volume")

// ErrInUse is the error of removing a volume a running container uses.
var ErrInUse = errors.New("in use by a running container")

// Store is the named volumes of one root, in its rootdir.Layout.Volumes()
// folder:
//
//	NAME/volume.json        the volume's metadata (atomicfile)
//	NAME/data/              its files: what a container mounts
//	.locks/NAME.lock        held shared by every container using NAME,
//	                        exclusive while NAME is created, filled or removed
//	.new+NAME+N/            a volume being created, renamed to NAME when whole
//	.fill+NAME+N/           an empty volume's first content, renamed over NAME/data
//	.rm+NAME+N/             a volume being removed, renamed away from NAME first
//
// A volume appears whole or not at all, and a crash leaves at most a
// dot-folder that the next holder of NAME's exclusive lock removes. Lock
// files are kept after a volume is removed: removing a lock file others
// may have open would let two holders lock two different files.
type Store struct {
	dir string
}

// At returns the volumes of the root l; nothing is created until a
// volume is.
func At(l rootdir.Layout) *Store { return &Store{dir: l.Volumes()} }

// Volume is one named volume.
type Volume struct {
	Name string `json:"name"`
	// CreatedAt is when it was created; LastUsedAt when a container last
	// mounted it (zero if none ever did).
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// Mountpoint is the host directory holding its files, the one a
	// container mounts.
	Mountpoint string `json:"mountpoint"`
}

// metadata is volume.json.
type metadata struct {
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

const (
	metaFile  = "volume.json"
	dataDir   = "data"
	locksDir  = ".locks"
	dirPerm   = 0o700
	dataPerm  = 0o755
	lockPerm  = 0o600
	metaPerm  = 0o600
	tmpNew    = ".new"
	tmpFill   = ".fill"
	tmpRemove = ".rm"
)

// volumeDir is the folder of the volume name.
func (s *Store) volumeDir(name string) string { return filepath.Join(s.dir, name) }

// lockPath is the lock file of the volume name.
func (s *Store) lockPath(name string) string { return filepath.Join(s.dir, locksDir, name+".lock") }

// Get returns the volume name, or an error wrapping ErrNotFound.
func (s *Store) Get(name string) (Volume, error) {
	if err := CheckName(name); err != nil {
		return Volume{}, err
	}
	dir := s.volumeDir(name)
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(dir); errors.Is(serr, fs.ErrNotExist) {
			return Volume{}, fmt.Errorf("volume %s: %w", name, ErrNotFound)
		}
	}
	if err != nil {
		return Volume{}, fmt.Errorf("volume %s: reading its metadata: %w", name, err)
	}
	var m metadata
	if err := json.Unmarshal(data, &m); err != nil || m.Name != name {
		return Volume{}, fmt.Errorf("volume %s: %s is damaged (minibuild volume rm %s removes the volume)", name, filepath.Join(dir, metaFile), name)
	}
	return Volume{Name: name, CreatedAt: m.CreatedAt, LastUsedAt: m.LastUsedAt, Mountpoint: filepath.Join(dir, dataDir)}, nil
}

// List returns every volume, sorted by name. A volume whose metadata
// cannot be read is left out; unreadable says why, one error per volume.
func (s *Store) List() (vols []Volume, unreadable []error, err error) {
	names, err := s.names()
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		v, err := s.Get(n)
		switch {
		case errors.Is(err, ErrNotFound): // removed meanwhile
		case err != nil:
			unreadable = append(unreadable, err)
		default:
			vols = append(vols, v)
		}
	}
	return vols, unreadable, nil
}

// names lists the folders of the store that are named like volumes.
func (s *Store) names() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && CheckName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Size is the disk space the volume's files take.
func (s *Store) Size(v Volume) int64 { return diskusage.Size(v.Mountpoint) }

// writeMeta replaces the metadata in the volume folder dir.
func writeMeta(dir string, m metadata) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, metaFile), append(data, '\n'), metaPerm)
}

// tempName is the name of a dot-folder of kind (tmpNew, tmpFill,
// tmpRemove) for the volume name: KIND+NAME+, followed by a random
// suffix. "+" is in no volume name, so the name can be read back.
func tempName(kind, name string) string { return kind + "+" + name + "+" }

// tempOwner reads back the volume a dot-folder belongs to, or "".
func tempOwner(entry string) string {
	for _, kind := range []string{tmpNew, tmpFill, tmpRemove} {
		if rest, ok := strings.CutPrefix(entry, kind+"+"); ok {
			if name, _, ok := strings.Cut(rest, "+"); ok && CheckName(name) == nil {
				return name
			}
		}
	}
	return ""
}
