package doctor

import (
	"os"

	"github.com/minibuild/minibuild/userns"
)

// Status is how a check came out.
type Status int

const (
	// OK: nothing to do.
	OK Status = iota
	// Warning: builds run, but something works less well than it could.
	Warning
	// Missing: something is absent; what depends on it fails or falls back.
	Missing
)

// String is the status as the report prints it.
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warning:
		return "warning"
	}
	return "missing"
}

// Check is one line of the report: what was checked, how it came out,
// what was found, and what to do about it.
type Check struct {
	Name   string
	Status Status
	Detail string
	Fix    string // "" when there is nothing to do
}

// Report is every check, in order, and whether a build can run.
type Report struct {
	Checks   []Check
	CanBuild bool
	// Blocker names the check that keeps builds from running, when one does.
	Blocker string
}

// Options says what Run checks.
type Options struct {
	// Root is the store directory builds would use.
	Root string
}

// Run checks the calling user, user namespaces, subordinate IDs and the
// helpers that map them, overlayfs, the OCI runtimes, the store root and
// the other platforms RUN can run binaries of. A build can run as root,
// or as an ordinary user when a user namespace can be made,
// MINIBUILD_NO_USERNS does not refuse it, and the helpers, when the user
// has ranges for them, map them.
func Run(opts Options) Report {
	root := os.Geteuid() == 0
	m := userns.LookupMapping()
	nsCheck, nsOK := checkUserNS(root)
	helpers, helpersBroken := checkHelpers(root, m, nsOK)
	r := Report{Checks: []Check{
		checkUser(root, m.User, m.UID, userns.OptedOut()),
		nsCheck,
		checkSubIDs(root, m),
		helpers,
		checkOverlay(root, nsOK, opts.Root),
		checkRuntime(),
		checkStoreRoot(opts.Root),
		checkEmulation(),
	}}
	switch {
	case root:
		r.CanBuild = true
	case userns.OptedOut():
		r.Blocker = "user"
	case !nsOK:
		r.Blocker = nsCheck.Name
	case helpersBroken:
		r.Blocker = helpers.Name
	default:
		r.CanBuild = true
	}
	return r
}
