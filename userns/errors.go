package userns

import "fmt"

// UnavailableError says that minibuild could not make its user namespace.
type UnavailableError struct {
	Err     error  // what failed
	Setting string // the kernel setting that blocks user namespaces, as name=value, or ""
	Fix     string // the command that lifts it, or ""
}

// Error is one line: the cause, the setting and its fix, and where to look next.
func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("cannot create a user namespace to build as an ordinary user (%v)", e.Err)
	if e.Setting != "" {
		msg += fmt.Sprintf(": %s forbids it; allow it with: %s", e.Setting, e.Fix)
	}
	return msg + "; 'minibuild doctor' checks the rest; or build as root, or set " + OptOutEnv + "=1 to run without one"
}

// Unwrap is the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }
