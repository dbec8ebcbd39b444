package executor

import (
	"os"
	"syscall"
)

// exitCode maps a wait status to a shell-style exit code: the status, or 128+signal.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// exitErrorFrom turns the final state of a finished process into nil or an *ExitError.
func exitErrorFrom(state *os.ProcessState) error {
	if state == nil {
		return nil
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok {
		if state.Success() {
			return nil
		}
		return &ExitError{Code: state.ExitCode()}
	}
	if code := exitCode(ws); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
