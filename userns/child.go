package userns

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// goAheadFD is where the child inherits the pipe its parent says go
// ahead on, once the maps are written.
const goAheadFD = 3

// goAhead is the byte the parent writes when the maps are in place; it
// closes the pipe without it when they could not be written.
const goAhead = 'g'

// isChild reports whether this process is the one Reexec's parent
// started and has yet to execute itself again: MarkerEnv names its
// parent and it has the go-ahead pipe. A marker inherited from elsewhere
// does not count.
func isChild() bool {
	ppid, err := strconv.Atoi(os.Getenv(MarkerEnv))
	return err == nil && ppid == os.Getppid() && isPipe(goAheadFD)
}

// awaitMaps runs in the process the parent started: it waits until the
// parent has written the uid and gid maps, then executes itself again.
// The exec is what makes it root of the namespace: its first exec
// happened before it had a uid there, so it holds no capabilities; an
// exec as uid 0 gives them all.
func awaitMaps() (bool, int, error) {
	f := os.NewFile(goAheadFD, "userns-go-ahead")
	b := make([]byte, 1)
	n, _ := f.Read(b)
	f.Close()
	if n != 1 || b[0] != goAhead {
		return true, 1, nil // the parent says why
	}
	err := syscall.Exec("/proc/self/exe", os.Args, setEnv(os.Environ(), MarkerEnv, markerInside))
	return true, 1, fmt.Errorf("executing /proc/self/exe in the user namespace: %w", err)
}

// isPipe reports whether fd is an open pipe.
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}
