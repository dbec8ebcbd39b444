package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// command is one subcommand: its flags, and what it does with the rest.
type command struct {
	name    string
	summary string
	usage   string
	example string
	setup   func(fs *pflag.FlagSet) func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands; "build" is also what runs without one.
func commands() []command {
	return []command{buildCommand(), planCommand(), inspectCommand(), cacheCommand(), pullCommand(), pushCommand(),
		manifestCommand(), historyCommand(), diffCommand(), explainCommand(), imagesCommand(), rmiCommand(), runCommand(), volumeCommand(), reportCommand(), doctorCommand()}
}

// usageError is a mistake in how minibuild was called (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var exit containerExit
	if errors.As(err, &exit) {
		return exit.code
	}
	if errors.As(err, new(runFailure)) {
		return 125
	}
	if errors.As(err, new(diffTrouble)) {
		return 2
	}
	return 1
}

// run parses args and runs the subcommand they name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	name := "build"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		for _, c := range cmds {
			if args[0] == c.name {
				name, args = c.name, args[1:]
				break
			}
		}
		if len(args) > 0 && args[0] == "help" {
			if len(args) > 1 {
				args = []string{args[1], "--help"}
				return run(ctx, args, stdout, stderr)
			}
			printTopUsage(stdout, cmds)
			return nil
		}
	}
	if len(args) == 1 && args[0] == "--version" {
		fmt.Fprintln(stdout, "minibuild", version)
		return nil
	}
	for _, c := range cmds {
		if c.name == name {
			return runOne(ctx, c, args, stdout, stderr, name == "build" && len(args) > 0 && args[0] == "--help", nil)
		}
	}
	return usageError{fmt.Errorf("unknown command %q", name)}
}

// runOne parses args with c's flags and runs c; --help prints its usage
// (after the list of commands with topHelp). inherit, when set, sees c's
// parsed flags before c runs.
func runOne(ctx context.Context, c command, args []string, stdout, stderr io.Writer, topHelp bool, inherit func(*pflag.FlagSet) error) error {
	fs := pflag.NewFlagSet("minibuild "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	do := c.setup(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printUsage(stdout, c, fs, topHelp)
			return nil
		}
		return usageError{fmt.Errorf("%s: %w (see 'minibuild %s --help')", c.name, err, c.name)}
	}
	if inherit != nil {
		if err := inherit(fs); err != nil {
			return err
		}
	}
	return do(ctx, fs.Args(), stdout, stderr)
}

const version = "0.1.0-dev"

func printTopUsage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "minibuild builds OCI container images from a Dockerfile, without a daemon.")
	fmt.Fprintln(w, "\nUsage:\n  minibuild [build flags] [CONTEXT]\n  minibuild COMMAND [flags] [args]\n\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'minibuild COMMAND --help' for a command's flags and examples.")
}

func printUsage(w io.Writer, c command, fs *pflag.FlagSet, top bool) {
	if top {
		printTopUsage(w, commands())
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n\nFlags:\n%s", c.summary, c.usage, fs.FlagUsages())
	if c.example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.example)
	}
}

// defaultRoot is the store directory: $MINIBUILD_ROOT, else
// $XDG_DATA_HOME/minibuild, else ~/.local/share/minibuild.
func defaultRoot() string {
	if r := os.Getenv("MINIBUILD_ROOT"); r != "" {
		return r
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "minibuild")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "minibuild")
	}
	return filepath.Join(home, ".local", "share", "minibuild")
}

// addRoot registers --root on a subcommand's flags.
func addRoot(fs *pflag.FlagSet) *string {
	return fs.String("root", defaultRoot(), "store directory (env MINIBUILD_ROOT)")
}
