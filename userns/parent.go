package userns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// runParent starts this program again in a new user and mount namespace,
// maps its IDs, and waits for it, passing signals on.
func runParent(c config) (bool, int, error) {
	m := lookupMapping(c)
	if w := m.Warning(); w != "" {
		fmt.Fprintln(c.stderr, w)
	}
	uids, gids := m.maps()
	helpers := m.OneID() == ""

	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = setEnv(os.Environ(), MarkerEnv, strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		// Should this process die, the build is told to stop and clean
		// up (the one-ID child; the other watches the go-ahead pipe).
		Pdeathsig: syscall.SIGTERM,
	}
	var goAheadW *os.File
	if helpers {
		r, w, err := os.Pipe()
		if err != nil {
			return true, 1, fmt.Errorf("user namespace: %w", err)
		}
		defer r.Close()
		defer w.Close()                // open until the child is gone: see goAheadFD
		cmd.ExtraFiles = []*os.File{r} // goAheadFD
		goAheadW = w
	} else {
		// One ID each: an unprivileged process may write such maps
		// itself, and Go does before the exec.
		cmd.SysProcAttr.UidMappings = uids
		cmd.SysProcAttr.GidMappings = gids
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
	}

	// Pdeathsig follows the thread that started the child: keep this
	// goroutine on it until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sigs := forwardSignals()
	defer sigs.stop()
	if err := cmd.Start(); err != nil {
		return true, 1, unavailable(err, Settings())
	}
	sigs.to(cmd.Process)
	if helpers {
		cmd.ExtraFiles[0].Close()
		err := m.Write(cmd.Process.Pid)
		if err != nil {
			err = unavailable(err, Settings())
		} else {
			_, err = goAheadW.Write([]byte{goAhead})
		}
		if err != nil {
			goAheadW.Close()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return true, 1, err
		}
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return true, 1, fmt.Errorf("waiting for minibuild in its user namespace: %w", err)
	}
	return true, exitCode(cmd.ProcessState), nil
}

// Write writes m, with its subordinate ranges, as the gid and uid maps
// of the process pid (just started in a new user namespace) through
// newgidmap and newuidmap. The error says what they said.
func (m Mapping) Write(pid int) error {
	if why := m.OneID(); why != "" {
		return errors.New(why)
	}
	uids, gids := m.maps()
	for _, h := range []struct {
		path string
		m    []syscall.SysProcIDMap
	}{{m.NewGIDMap, gids}, {m.NewUIDMap, uids}} {
		var out bytes.Buffer
		cmd := exec.Command(h.path, mapArgs(pid, h.m)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			msg := strings.Join(strings.Fields(out.String()), " ")
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("%s %s: %s", h.path, strings.Join(mapArgs(pid, h.m)[1:], " "), msg)
		}
	}
	return nil
}

// exitCode is a finished process's exit code, 128+N when signal N killed it.
func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// setEnv is env with key set to value, any earlier value removed.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}
