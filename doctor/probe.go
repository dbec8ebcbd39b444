package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/minibuild/minibuild/internal/idmap"
)

// probeArg0 marks a process started as one of the doctor's probes.
const probeArg0 = "minibuild-doctor-probe"

// The probes, as the argument after probeArg0.
const (
	probeRoot    = "root"    // exit 0 when uid 0 with CAP_SYS_ADMIN
	probeWait    = "wait"    // wait until stdin closes, then exit 0 when uid 0 with more than one ID mapped
	probeOverlay = "overlay" // mount overlay in DIR (userxattr when a third argument says so)
)

// Init runs a doctor probe when this process was started as one, and
// never returns then; otherwise it returns false at once. Call it first
// thing in main (and in TestMain).
func Init() bool {
	if len(os.Args) < 2 || os.Args[0] != probeArg0 {
		return false
	}
	var err error
	switch os.Args[1] {
	case probeWait:
		_, _ = io.Copy(io.Discard, os.Stdin)
		err = checkMapped()
	case probeRoot:
		err = checkRoot()
	case probeOverlay:
		if len(os.Args) < 3 {
			err = errors.New("overlay probe: no directory")
			break
		}
		err = mountProbe(os.Args[2], len(os.Args) > 3 && os.Args[3] == "userxattr")
	default:
		err = fmt.Errorf("unknown probe %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprint(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

// checkRoot says whether this process is root with the capabilities of
// its user namespace.
func checkRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("uid %d in the namespace, not 0", os.Geteuid())
	}
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			var caps uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &caps); err != nil || caps&(1<<21) == 0 {
				return fmt.Errorf("no CAP_SYS_ADMIN in the namespace (CapEff %s)", strings.TrimSpace(v))
			}
		}
	}
	return nil
}

// checkMapped says whether this process is uid 0 of a user namespace
// that maps more than one ID (its capabilities came and went with its
// exec, before the maps were written).
func checkMapped() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("uid %d in the namespace, not 0", os.Geteuid())
	}
	m, err := idmap.UIDs()
	if err != nil {
		return err
	}
	if len(m) < 2 {
		return fmt.Errorf("only one uid mapped: %s", m)
	}
	return nil
}

// probe is a probe process about to start: /proc/self/exe in mode, with args.
func probe(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", append([]string{mode}, args...)...)
	cmd.Args[0] = probeArg0
	cmd.Env = []string{}
	return cmd
}

// oneIDNamespace makes cmd start as root of a new user namespace (and
// mount namespace) that maps the caller's uid and gid alone, as any user
// may without helpers.
func oneIDNamespace(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
}

// run runs a probe; the error holds what it printed.
func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return errors.New(msg)
		}
		return err
	}
	return nil
}
