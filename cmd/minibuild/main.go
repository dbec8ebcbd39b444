// Command minibuild builds OCI container images from a Dockerfile without a daemon.
package main

import (
	"context"
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
		fmt.Fprintln(os.Stderr, "minibuild:", err)
		os.Exit(exitCode(err))
	}
}
