package mountcache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/minibuild/minibuild/rootdir"
)

// The layout under ROOT/mounts, which only this package reads or writes:
//
//	<hex>/               one folder per cache id: the SHA-256 of the id's bytes
//	  lock               the id's lock, held exclusively while a lease is chosen or made, or an instance removed
//	  <n>/               instance n of the id (0, 1, ...; private leases make more)
//	    lock             the instance's lock, held by its leases: shared or exclusive
//	    meta.json        the id, n and the times it was created and last used
//	    data/            the directory a lease binds
//	  .new-<random>/     an instance being made, renamed to <n> once complete
//	  .old-<random>/     an instance being removed, renamed from <n> first
//
// Only a holder of the id's lock creates, renames or removes anything in
// <hex>, and it takes the instances' locks without waiting; so a holder
// of the id's lock that finds a .new- or .old- folder knows its maker is
// dead.
const (
	lockName   = "lock"
	metaName   = "meta.json"
	dataName   = "data"
	newPrefix  = ".new-"
	oldPrefix  = ".old-"
	dirPerm    = 0o700
	lockPerm   = 0o600
	defaultDir = 0o755
)

// maxPoll bounds the pause between two looks of a locked lease that waits.
const maxPoll = 100 * time.Millisecond

// Sharing is how leases of one cache id share its directory, as
// BuildKit's sharing= of a cache mount.
type Sharing string

// Sharing modes. A builder converts a Dockerfile's sharing= to these.
const (
	// Shared lets every shared lease use the directory at once: a shared
	// lease joins the lowest-numbered instance no private or locked lease
	// holds (the default).
	Shared Sharing = "shared"
	// Private gives a lease an instance nobody else uses: the
	// lowest-numbered free one, else a new one.
	Private Sharing = "private"
	// Locked gives a lease a free instance, waiting until one is released
	// if every instance is in use; a new one is made only when the id has
	// none.
	Locked Sharing = "locked"
)

// Options says which directory Acquire leases and how it is made.
type Options struct {
	// ID names the cache; any bytes but none at all. A builder passes the
	// mount's id= (by default its target). BuildKit keeps a cache seeded
	// from= apart from the unseeded one of the same id: such a builder
	// folds the source's identity into ID.
	ID string
	// Sharing is Shared (also when empty), Private or Locked.
	Sharing Sharing
	// Mode is the permission bits (setuid, setgid and sticky included) of
	// a new directory; 0 means 0755. An existing directory keeps its own.
	Mode os.FileMode
	// UID and GID own a new directory. They are host IDs: a rootless
	// builder maps the container's IDs (0:0 by default) to the host's.
	UID, GID int
	// Seed, when set, fills a new directory before any lease uses it
	// (BuildKit's from= and source=); dir already has Mode, UID and GID.
	// It runs once per new instance, holding the id's lock; an error
	// leaves no instance behind.
	Seed func(dir string) error
}

// Info describes one instance of a cache id.
type Info struct {
	// ID is the cache id; "" when the instance's metadata cannot be read
	// (Prune still removes it).
	ID string
	// Instance numbers the directories of one id from 0.
	Instance int
	// Dir is the directory leases of the instance bind.
	Dir string
	// Size is the disk space Dir takes.
	Size int64
	// Created and LastUsed are when the instance was made and last leased
	// or released.
	Created, LastUsed time.Time
	// InUse says that a lease held the instance when it was looked at.
	InUse bool
}

// Cache is the set of cache mount directories of one minibuild root. It
// is safe for concurrent use by goroutines and processes alike: its state
// is on disk and in flock locks.
type Cache struct {
	dir string // ROOT/mounts
}

// Open returns the cache mounts of the root laid out as l. It creates
// nothing; Acquire makes the folders it needs.
func Open(l rootdir.Layout) *Cache {
	return &Cache{dir: l.CacheMounts()}
}

// idDir is the folder of the cache id.
func (c *Cache) idDir(id string) string { return filepath.Join(c.dir, idHash(id)) }

// idHash names the folder of the cache id: the hex SHA-256 of its bytes.
func idHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// isIDDir reports whether name is the name of an id's folder: 64
// lowercase hex digits.
func isIDDir(name string) bool {
	if len(name) != 2*sha256.Size {
		return false
	}
	for _, r := range name {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// instanceDir is the folder of instance n in the id folder idDir.
func instanceDir(idDir string, n int) string { return filepath.Join(idDir, strconv.Itoa(n)) }

// instanceNumber parses an instance folder's name: a decimal number
// without leading zeros.
func instanceNumber(name string) (int, bool) {
	n, err := strconv.Atoi(name)
	if err != nil || n < 0 || strconv.Itoa(n) != name {
		return 0, false
	}
	return n, true
}
