// Command minibuild builds OCI container images from a Dockerfile without a daemon.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/minibuild/minibuild/executor"
)

func main() {
	if executor.Init() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// A container's exit code is passed on without a message, as docker run does.
		if !errors.As(err, new(containerExit)) {
			fmt.Fprintln(os.Stderr, "minibuild:", err)
		}
		os.Exit(exitCode(err))
	}
}
