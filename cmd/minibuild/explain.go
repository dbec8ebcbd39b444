package main

import (
	"context"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/session"
	"github.com/spf13/pflag"
)

func explainCommand() command {
	return command{
		name:    "explain",
		summary: "Compare two builds' metadata files: for each stage, the first step that differs, and why",
		usage:   "minibuild explain OTHER.json THIS.json",
		example: `  minibuild build --metadata-file ci.json .      # in CI; keep ci.json as an artifact
  minibuild build --metadata-file local.json .   # on your machine
  minibuild explain ci.json local.json           # why the two keyed a step differently

Each stage's first step whose key differs is named with the first input that
differs: the instruction's text, a build arg or ENV value, a source file
(content, mode, owner, link), the base image, the settings. Files are compared
only when both builds recorded all of them (at most 1000 per step).`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			return func(_ context.Context, args []string, stdout, _ io.Writer) error {
				if len(args) != 2 {
					return usageError{fmt.Errorf("explain: want two metadata files, got %d arguments", len(args))}
				}
				return runExplain(args[0], args[1], stdout)
			}
		},
	}
}

// runExplain prints how the build of thisPath differs from otherPath's.
func runExplain(otherPath, thisPath string, w io.Writer) error {
	other, err := session.ReadMetadata(otherPath)
	if err != nil {
		return err
	}
	this, err := session.ReadMetadata(thisPath)
	if err != nil {
		return err
	}
	diffs := builder.CompareSteps(stepsOf(other), stepsOf(this), otherPath)
	if len(diffs) == 0 {
		fmt.Fprintf(w, "same: every step of %s has the key it has in %s\n", thisPath, otherPath)
		return nil
	}
	for _, d := range diffs {
		fmt.Fprintf(w, "stage %s: step %d (line %d) %s\n", d.Stage, d.Cur.Index, d.Cur.Line, d.Cur.Instruction)
		switch {
		case d.Prev.Key == "":
			fmt.Fprintf(w, "  not in %s\n", otherPath)
		case !d.Reason.IsZero():
			fmt.Fprintf(w, "  why: %s\n", d.Reason)
		default:
			fmt.Fprintf(w, "  keys differ (%s here, %s in %s); the files do not record why\n", d.Cur.Key, d.Prev.Key, otherPath)
		}
	}
	return nil
}

// stepsOf are a metadata file's steps.
func stepsOf(m session.Metadata) []builder.StepResult {
	out := make([]builder.StepResult, len(m.Steps))
	for i, s := range m.Steps {
		out[i] = s.Result()
	}
	return out
}
