package main

import (
	"context"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/doctor"
	"github.com/spf13/pflag"
)

func doctorCommand() command {
	return command{
		name:    "doctor",
		summary: "Check that builds can run here, as you (root, or an ordinary user through a user namespace)",
		usage:   "minibuild doctor [--root DIR]",
		example: `  minibuild doctor                     # one line per check: ok, warning or missing, with the fix
  sudo minibuild doctor                # ... as root
  minibuild doctor --root /mnt/store   # ... for another store directory`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usageError{fmt.Errorf("doctor: unexpected argument %q", args[0])}
				}
				r := doctor.Run(doctor.Options{Root: *root})
				printDoctor(stdout, r)
				if !r.CanBuild {
					// Exit status 1.
					return fmt.Errorf("doctor: builds cannot run here: see the %q line", r.Blocker)
				}
				return nil
			}
		},
	}
}

// printDoctor prints one line per check, then the verdict.
func printDoctor(w io.Writer, r doctor.Report) {
	for _, c := range r.Checks {
		line := fmt.Sprintf("%-8s %-20s %s", c.Status, c.Name, c.Detail)
		if c.Fix != "" {
			line += "; fix: " + c.Fix
		}
		fmt.Fprintln(w, line)
	}
	if r.CanBuild {
		fmt.Fprintln(w, "builds can run")
	}
}
