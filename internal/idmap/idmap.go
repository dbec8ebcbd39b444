package idmap

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Range is one line of an ID map: Count IDs from Inside are the IDs from
// Outside of the parent user namespace.
type Range struct {
	Inside, Outside, Count uint32
}

// Map is a user namespace's mapping of user or group IDs.
type Map []Range

// Has reports whether id is mapped, so that a file can be owned by it.
func (m Map) Has(id uint32) bool {
	for _, r := range m {
		if id >= r.Inside && uint64(id) < uint64(r.Inside)+uint64(r.Count) {
			return true
		}
	}
	return false
}

// Identity reports whether m is the initial user namespace's map, every
// ID mapped to itself.
func (m Map) Identity() bool {
	return len(m) == 1 && m[0] == Range{0, 0, 4294967295}
}

// String returns the map as "INSIDE OUTSIDE COUNT" lines joined by ", ",
// e.g. "0 999 1, 1 100000 65536".
func (m Map) String() string {
	parts := make([]string, len(m))
	for i, r := range m {
		parts[i] = fmt.Sprintf("%d %d %d", r.Inside, r.Outside, r.Count)
	}
	return strings.Join(parts, ", ")
}

// Parse parses the content of a uid_map or gid_map file.
func Parse(s string) (Map, error) {
	var m Map
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("parsing ID map line %q: want 3 fields", line)
		}
		var n [3]uint32
		for i, s := range f {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parsing ID map line %q: %w", line, err)
			}
			n[i] = uint32(v)
		}
		m = append(m, Range{n[0], n[1], n[2]})
	}
	return m, nil
}

// UIDs returns this process's user ID map.
func UIDs() (Map, error) { return read("/proc/self/uid_map") }

// GIDs returns this process's group ID map.
func GIDs() (Map, error) { return read("/proc/self/gid_map") }

func read(file string) (Map, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading ID map: %w", err)
	}
	return Parse(string(b))
}

// initial caches InInitialNamespace: a process never changes user
// namespace after its threads start.
var initial = sync.OnceValue(func() bool {
	m, err := UIDs()
	// Without /proc/self/uid_map (no user namespaces in the kernel) there
	// is only the initial namespace.
	return err != nil || m.Identity()
})

// InInitialNamespace reports whether this process runs in the initial
// user namespace, where /proc/self/uid_map is "0 0 4294967295". Outside
// it (rootless), overlayfs needs the userxattr option, sysfs and device
// nodes cannot be made, and only mapped IDs can own files.
func InInitialNamespace() bool { return initial() }

// UnmappedError explains err, the failure of giving a file to uid:gid or
// of switching to them, where the reason is that one of them is not
// mapped in this user namespace (the kernel says only EINVAL): it names
// the ID and the map, and still wraps err. Any other error is returned as it is. A negative ID
// stands for "unchanged".
func UnmappedError(err error, uid, gid int) error {
	if !errors.Is(err, unix.EINVAL) {
		return err
	}
	if uid >= 0 {
		if m, merr := UIDs(); merr == nil && !m.Has(uint32(uid)) {
			return unmapped(err, "user", uid, m, "/etc/subuid")
		}
	}
	if gid >= 0 {
		if m, merr := GIDs(); merr == nil && !m.Has(uint32(gid)) {
			return unmapped(err, "group", gid, m, "/etc/subgid")
		}
	}
	return err
}

func unmapped(err error, kind string, id int, m Map, file string) error {
	return fmt.Errorf("%w: %s ID %d is not mapped in this user namespace (%s map: %s); a rootless build needs subordinate IDs for it (%s)",
		err, kind, id, kind, m, file)
}

// SetgroupsDenied reports whether setgroups(2) is denied in this user
// namespace (/proc/self/setgroups says "deny"), as it is where an
// unprivileged process wrote its own gid_map without newgidmap (unshare
// --map-root-user): the supplementary groups cannot be changed then.
func SetgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}
