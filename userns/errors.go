package userns

import (
	"errors"
	"fmt"
	"os"
)

// UnavailableError says that minibuild could not make its user namespace.
type UnavailableError struct {
	Err     error  // what failed
	Setting string // the kernel setting that blocks user namespaces, as name=value, or ""
	Fix     string // the command that lifts it, or ""
}

// Error is one line: the cause, the setting and its fix, and where to look next.
func (e *UnavailableError) Error() string {
	cause := e.Err.Error()
	var pe *os.PathError
	if errors.As(e.Err, &pe) && pe.Path == "/proc/self/exe" {
		cause = pe.Err.Error() // not "fork/exec /proc/self/exe: …"
	}
	msg := fmt.Sprintf("cannot create a user namespace to build as an ordinary user (%s)", cause)
	if e.Setting != "" {
		msg += fmt.Sprintf(": %s forbids it; allow it with: %s", e.Setting, e.Fix)
	}
	return msg + "; 'minibuild doctor' checks the rest; or build as root, or set " + OptOutEnv + "=1 to run without one"
}

// Unwrap is the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }
