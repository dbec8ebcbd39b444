package userns

import "os"

// MarkerEnv marks the process Reexec started: its value is the parent's
// pid until the maps are written, then markerInside.
const MarkerEnv = "MINIBUILD_USERNS"

// markerInside is MarkerEnv's value in the namespace, once minibuild runs there as root.
const markerInside = "inside"

// OptOutEnv, set to anything but "" or "0", makes Reexec do nothing.
const OptOutEnv = "MINIBUILD_NO_USERNS"

// Reexec runs this program again as root of a new user namespace (with a
// mount namespace of its own) when an ordinary user started it; call it
// first thing in main, after any hidden init dispatch. handled says that
// the caller should exit at once with exitCode, after printing err when
// it is not nil: the program ran in the namespace and exitCode is its
// exit code (128+N when signal N killed it), or it could not.
//
// handled is false, and the caller goes on, when the effective uid is 0
// (root, or already inside the namespace) or OptOutEnv is set. The
// namespace maps uid and gid 0 to the caller's and 1 on to the caller's
// subordinate ranges (newuidmap, newgidmap); without them it maps the
// caller's IDs alone and prints one line on stderr saying so and how to
// add ranges. The program keeps the caller's environment, HOME included,
// and its standard streams.
func Reexec(opts ...Option) (handled bool, exitCode int, err error) {
	// The child first: its maps may be written, and its euid 0, before
	// it gets here, but it has no capabilities until it executes again.
	if isChild() {
		return awaitMaps()
	}
	if os.Getenv(MarkerEnv) == markerInside {
		watchParent()
	}
	if os.Geteuid() == 0 || OptedOut() {
		return false, 0, nil
	}
	return runParent(newConfig(opts))
}

// OptedOut reports whether OptOutEnv asks for no user namespace.
func OptedOut() bool {
	v := os.Getenv(OptOutEnv)
	return v != "" && v != "0"
}
