package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// BuiltinOptions configures the built-in executor.
type BuiltinOptions struct {
	// StateDir is where each run's generated hosts and resolv.conf are written
	// (a directory under os.TempDir() when empty).
	StateDir string
}

// builtinExecutor runs processes with namespaces set up by a re-executed copy of the
// current binary (see Init), needing nothing installed.
type builtinExecutor struct {
	stateDir string
}

var _ Executor = (*builtinExecutor)(nil)

// NewBuiltin returns the built-in executor. The program must call Init first thing in main.
func NewBuiltin(opts BuiltinOptions) Executor {
	return &builtinExecutor{stateDir: opts.StateDir}
}

// maxSetupError bounds how much of an init's setup error report is read.
const maxSetupError = 64 << 10

// Run implements Executor.
func (b *builtinExecutor) Run(ctx context.Context, rootfs string, p Process) (err error) {
	pl, err := newPlan(rootfs, b.stateDir, p)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := pl.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	cfg := initConfig{
		Rootfs:     pl.rootfs,
		Mounts:     pl.mounts,
		HostsFile:  pl.hostsFile,
		ResolvFile: pl.resolvFile,
		Args:       pl.proc.Args,
		Env:        pl.proc.Env,
		Cwd:        pl.proc.Cwd,
		UID:        pl.proc.UID,
		GID:        pl.proc.GID,
		Groups:     pl.proc.AdditionalGIDs,
		Hostname:   pl.proc.Hostname,
		NewNetwork: pl.proc.Network == NetworkNone,
		Nofile:     nofileLimit(),
		UserMounts: pl.userMounts,
	}
	return b.start(ctx, cfg, pl.proc)
}

// start re-executes the current binary as the init of new namespaces, hands it cfg,
// and waits for the namespaces' processes to end.
func (b *builtinExecutor) start(ctx context.Context, cfg initConfig, p Process) error {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("creating config pipe: %w", err)
	}
	defer cfgW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		return fmt.Errorf("creating error pipe: %w", err)
	}
	defer errR.Close()

	flags := syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	if cfg.NewNetwork {
		flags |= syscall.CLONE_NEWNET
	}
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{initArg0, initArg1}
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{cfgR, errW} // fds 3 and 4 in the init
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.Stdin, p.Stdout, p.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: uintptr(flags),
		Setsid:     true,
		Pdeathsig:  syscall.SIGKILL,
	}
	// Every process holding the output pipes dies with the PID namespace; this only
	// bounds a pathological wait.
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Start()
	cfgR.Close()
	errW.Close()
	if err != nil {
		return fmt.Errorf("starting executor init: %w", err)
	}
	// A write error means the init died early; its report or exit status tells why.
	_ = json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	report, _ := io.ReadAll(io.LimitReader(errR, maxSetupError))
	werr := cmd.Wait()
	switch {
	case len(report) > 0:
		return fmt.Errorf("starting %s: %s", p.Args[0], strings.TrimSpace(string(report)))
	case ctx.Err() != nil:
		return fmt.Errorf("running %s: %w", p.Args[0], ctx.Err())
	case werr != nil && !errors.As(werr, new(*exec.ExitError)):
		return fmt.Errorf("running %s: %w", p.Args[0], werr)
	}
	return exitErrorFrom(cmd.ProcessState)
}
