// Package usernstest re-runs a package's test binary as root of a new user namespace, as a rootless build runs, for tests of code that behaves otherwise there.
package usernstest
