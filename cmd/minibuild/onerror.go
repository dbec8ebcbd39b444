package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/container"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/progress"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
)

// debugFailedRun, for build --on-error shell, opens an interactive shell
// in the state a failed RUN ran on, with its environment, user and
// working directory, when stdin and stderr are terminals; elsewhere the
// error already says which run --step command does it. It returns err.
func debugFailedRun(ctx context.Context, err error, s *store.Store, root session.Root, snap snapshot.Snapshotter, runtime string, stderr io.Writer) error {
	var failed *builder.FailedRunError
	if !errors.As(err, &failed) || !progress.IsTerminal(os.Stdin) || !progress.IsTerminal(os.Stderr) {
		return err
	}
	from, serr := root.StepImage(failed.State)
	if serr != nil {
		fmt.Fprintf(stderr, "minibuild: --on-error shell: %v\n", serr)
		return err
	}
	from.Config.Env, from.Config.User, from.Config.WorkingDir = failed.Env, failed.User, failed.Workdir
	fmt.Fprintf(stderr, "minibuild: %v\nminibuild: a shell in the state that step ran on (exit it to end the build):\n", failed.Err)
	c := container.Options{Store: s, Snapshotter: snap, Executor: root.Executor(runtime), From: &from,
		Image: "step " + failed.State.String(), Cmd: []string{"/bin/sh"},
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if rerr := container.Run(ctx, c); rerr != nil && !errors.As(rerr, new(*executor.ExitError)) {
		fmt.Fprintf(stderr, "minibuild: --on-error shell: %v\n", rerr)
	}
	return err
}
