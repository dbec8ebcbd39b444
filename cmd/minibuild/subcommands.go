package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// runSubcommand runs the subcommand of "minibuild NAME" that args name,
// one of subs (named "NAME SUB"). fs is NAME's own flags: a --root given
// there, before the subcommand, counts unless given again after it.
func runSubcommand(ctx context.Context, name string, fs *pflag.FlagSet, root *string, subs []command, args []string, stdout, stderr io.Writer) error {
	var names []string
	for _, sub := range subs {
		names = append(names, strings.TrimPrefix(sub.name, name+" "))
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		return usageError{fmt.Errorf("%s: want a subcommand: %s (see 'minibuild %s --help')", name, want, name)}
	}
	inherit := func(sfs *pflag.FlagSet) error {
		if fs.Changed("root") && !sfs.Changed("root") {
			return sfs.Set("root", *root)
		}
		return nil
	}
	for _, sub := range subs {
		if sub.name == name+" "+args[0] {
			return runOne(ctx, sub, args[1:], stdout, stderr, false, inherit)
		}
	}
	return usageError{fmt.Errorf("%s: unknown subcommand %q: want %s", name, args[0], want)}
}
