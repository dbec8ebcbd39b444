package userns

import (
	"strconv"
	"syscall"
)

// maxID is the largest ID a user namespace can map (2^32-2: 2^32-1 is
// the kernel's invalid ID).
const maxID = 1<<32 - 2

// idMap maps container ID 0 to the host ID id and container IDs from 1
// to ranges, one after the other in order; a range that would pass
// maxID inside is cut short.
func idMap(id int, ranges []Range) []syscall.SysProcIDMap {
	m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: id, Size: 1}}
	next := uint64(1)
	for _, r := range ranges {
		size := uint64(r.Count)
		if next+size-1 > maxID {
			size = maxID - next + 1
		}
		if size == 0 {
			break
		}
		m = append(m, syscall.SysProcIDMap{ContainerID: int(next), HostID: int(r.Start), Size: int(size)})
		next += size
	}
	return m
}

// mapArgs are the arguments of newuidmap or newgidmap writing m for the process pid.
func mapArgs(pid int, m []syscall.SysProcIDMap) []string {
	args := []string{strconv.Itoa(pid)}
	for _, e := range m {
		args = append(args, strconv.Itoa(e.ContainerID), strconv.Itoa(e.HostID), strconv.Itoa(e.Size))
	}
	return args
}
