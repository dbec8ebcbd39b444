package userns

import (
	"io"
	"os"
)

// Option changes where Reexec looks for what it needs.
type Option func(*config)

// config is what Reexec reads and runs; the options change it for tests.
type config struct {
	subuid, subgid       string // subordinate ID files
	newuidmap, newgidmap string // helper commands: names looked up on PATH, or paths
	stderr               io.Writer
}

func newConfig(opts []Option) config {
	c := config{
		subuid: "/etc/subuid", subgid: "/etc/subgid",
		newuidmap: "newuidmap", newgidmap: "newgidmap",
		stderr: os.Stderr,
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithSubIDFiles reads subordinate IDs from subuid and subgid instead of
// /etc/subuid and /etc/subgid. newuidmap and newgidmap still check the
// real files.
func WithSubIDFiles(subuid, subgid string) Option {
	return func(c *config) { c.subuid, c.subgid = subuid, subgid }
}

// WithHelpers runs newuidmap and newgidmap as named: a name is looked up on PATH.
func WithHelpers(newuidmap, newgidmap string) Option {
	return func(c *config) { c.newuidmap, c.newgidmap = newuidmap, newgidmap }
}

// WithStderr prints the one-ID warning to w instead of os.Stderr.
func WithStderr(w io.Writer) Option {
	return func(c *config) { c.stderr = w }
}
