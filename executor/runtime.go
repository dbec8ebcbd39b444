package executor

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runtimeExecutor runs processes through an OCI runtime command line (runc, crun).
type runtimeExecutor struct {
	runtime  string
	stateDir string
}

var _ Executor = (*runtimeExecutor)(nil)

// NewRuntime returns an executor that runs each process as a container of the OCI runtime
// runtimePath ("runc", "crun" or a path), keeping bundles and runtime state under stateDir
// (a directory under os.TempDir() when empty).
func NewRuntime(runtimePath, stateDir string) Executor {
	if stateDir == "" {
		stateDir = defaultStateDir()
	}
	return &runtimeExecutor{runtime: runtimePath, stateDir: stateDir}
}

// runtimeKillDelay is how long the runtime gets to end after the container was killed.
const runtimeKillDelay = 5 * time.Second

// Run implements Executor.
func (r *runtimeExecutor) Run(ctx context.Context, rootfs string, p Process) (err error) {
	pl, err := newPlan(rootfs, r.stateDir, p)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := pl.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	bundle := pl.runDir
	cfg, err := json.MarshalIndent(runtimeSpec(pl), "", "\t")
	if err != nil {
		return fmt.Errorf("encoding runtime config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), cfg, 0o600); err != nil {
		return fmt.Errorf("writing runtime config: %w", err)
	}
	stateRoot := filepath.Join(r.stateDir, "runtime")
	if err := os.MkdirAll(stateRoot, 0o700); err != nil {
		return fmt.Errorf("creating runtime state directory: %w", err)
	}
	id, err := containerID()
	if err != nil {
		return err
	}
	logFile := filepath.Join(bundle, "runtime.log")
	global := []string{"--root", stateRoot}
	defer func() {
		// `run` removes the container when it ends normally; this covers the other cases.
		del := exec.Command(r.runtime, append(global, "delete", "--force", id)...)
		_ = del.Run()
	}()

	args := append(append([]string{}, global...), "--log", logFile, "--log-format", "json", "run", "--bundle", bundle, id)
	cmd := exec.CommandContext(ctx, r.runtime, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pl.proc.Stdin, pl.proc.Stdout, pl.proc.Stderr
	cmd.Cancel = func() error {
		// Killing the container's init ends its PID namespace; the runtime then returns.
		_ = exec.Command(r.runtime, append(global, "kill", id, "KILL")...).Run()
		return nil
	}
	cmd.WaitDelay = runtimeKillDelay
	werr := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("running %s: %w", pl.proc.Args[0], ctx.Err())
	}
	if werr != nil && !errors.As(werr, new(*exec.ExitError)) {
		return fmt.Errorf("running %s with %s: %w", pl.proc.Args[0], r.runtime, werr)
	}
	if werr != nil {
		if msg := runtimeErrors(logFile); msg != "" {
			return fmt.Errorf("starting %s with %s: %s", pl.proc.Args[0], r.runtime, msg)
		}
	}
	return exitErrorFrom(cmd.ProcessState)
}

// containerID returns a fresh, unique container name.
func containerID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating container id: %w", err)
	}
	return "minibuild-" + hex.EncodeToString(b[:]), nil
}

// runtimeErrors returns the error-level messages of a runtime's JSON log, joined, or ""
// when the runtime logged no error (the container ran and its own exit code stands).
func runtimeErrors(logFile string) string {
	b, err := os.ReadFile(logFile)
	if err != nil {
		return ""
	}
	var msgs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) != nil {
			continue
		}
		if entry.Level == "error" || entry.Level == "fatal" {
			msgs = append(msgs, strings.TrimSpace(entry.Msg))
		}
	}
	return strings.Join(msgs, "; ")
}
