package e2e

import (
	"strings"
	"testing"
)

// TestSubcommandHelp: every command has --help with examples, and --root.
func TestSubcommandHelp(t *testing.T) {
	for _, c := range []string{"build", "inspect", "history", "run", "push"} {
		r := mustMB(t, c, "--help")
		if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--root") {
			t.Errorf("%s --help lacks examples or --root:\n%s", c, r.stdout)
		}
	}
	if r := mustMB(t, "--help"); !strings.Contains(r.stdout, "inspect") {
		t.Errorf("top-level help does not list commands:\n%s", r.stdout)
	}
}

// TestCacheCommandsHelp: every cache subcommand has --help with
// examples and --root, and bad use is a usage error.
func TestCacheCommandsHelp(t *testing.T) {
	for _, args := range [][]string{{"cache", "--help"}, {"cache", "ls", "--help"}, {"cache", "du", "--help"},
		{"cache", "verify", "--help"}, {"cache", "prune", "--help"}, {"help", "cache"}} {
		r := mustMB(t, args...)
		if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--root") {
			t.Errorf("%v lacks examples or --root:\n%s", args, r.stdout)
		}
	}
	for _, args := range [][]string{{"cache"}, {"cache", "bogus"}, {"cache", "prune", "--keep-storage", "lots"}, {"cache", "ls", "extra"}} {
		if r := mb(t, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

// TestManifestCommandsHelp: manifest and its subcommands have --help
// with examples and --root, and bad use is a usage error.
func TestManifestCommandsHelp(t *testing.T) {
	for _, args := range [][]string{{"manifest", "--help"}, {"manifest", "create", "--help"}, {"manifest", "inspect", "--help"}, {"help", "manifest"}} {
		r := mustMB(t, args...)
		if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--root") {
			t.Errorf("%v lacks examples or --root:\n%s", args, r.stdout)
		}
	}
	if r := mustMB(t, "--help"); !strings.Contains(r.stdout, "manifest ") {
		t.Errorf("top-level help does not list manifest:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"manifest"}, {"manifest", "bogus"}, {"manifest", "create", "only-a-name"}, {"manifest", "inspect"}, {"inspect", "--platform", "linux", "x"}} {
		if r := mb(t, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}
