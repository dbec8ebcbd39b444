package userns

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
)

// goAheadFD is where the child inherits the pipe its parent says go
// ahead on, once the maps are written. The parent keeps its end open
// until the child is gone, so the child, which keeps its end across its
// second exec, sees the parent die.
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
	b := make([]byte, 1)
	n, err := syscall.Read(goAheadFD, b)
	for errors.Is(err, syscall.EINTR) {
		n, err = syscall.Read(goAheadFD, b)
	}
	if n != 1 || b[0] != goAhead {
		return true, 1, nil // the parent says why
	}
	err = syscall.Exec("/proc/self/exe", os.Args, setEnv(os.Environ(), MarkerEnv, markerInside))
	return true, 1, fmt.Errorf("executing /proc/self/exe in the user namespace: %w", err)
}

// isPipe reports whether fd is an open pipe.
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

// watchParent, in the namespace, stops minibuild (SIGTERM, so that it
// cleans up) when its parent dies, which closes the go-ahead pipe. The
// parent-death signal cannot do it: the kernel clears it when an exec
// gives a process capabilities, and it belongs to one thread.
func watchParent() {
	if !isPipe(goAheadFD) {
		return
	}
	syscall.CloseOnExec(goAheadFD)
	if err := syscall.SetNonblock(goAheadFD, true); err != nil {
		return
	}
	f := os.NewFile(goAheadFD, "userns-parent")
	go func() {
		_, _ = io.Copy(io.Discard, f)
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
}
