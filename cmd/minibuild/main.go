// Command minibuild builds OCI container images from a Dockerfile without a daemon.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/minibuild/minibuild/doctor"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/userns"
)

func main() {
	if executor.Init() || doctor.Init() {
		return
	}
	if !isDoctor(os.Args[1:]) {
		// An ordinary user builds as root of a user namespace.
		if handled, code, err := userns.Reexec(); handled {
			if err != nil {
				fmt.Fprintln(os.Stderr, "minibuild:", err)
			}
			os.Exit(code)
		}
	}
	tuneGC()
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

// Garbage collector settings, unless GOGC or GOMEMLIMIT say otherwise.
// A build is a short process that allocates in bursts (a context listing
// of thousands of files, a layer's buffers): with Go's default (collect
// when the heap doubles) a no-change rebuild of bench W1 spent 5 of its
// 40 ms collecting. Collecting at five times the live heap, but never
// letting the heap pass gcMemoryLimit, made that rebuild 33-35 ms and
// kept the cold build's peak RSS at 70 MB (GOGC=400 alone: 127 MB;
// measured with GOGC and GOMEMLIMIT on that workload). A build whose live
// heap passes the limit (a context of hundreds of thousands of files)
// only collects more often; GOMEMLIMIT=off lifts it.
const (
	gcPercent     = 400
	gcMemoryLimit = 64 << 20
)

// tuneGC applies gcPercent and gcMemoryLimit.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}

// isDoctor reports whether args run 'minibuild doctor', which looks at
// the user as it is, outside any user namespace.
func isDoctor(args []string) bool {
	return len(args) > 0 && args[0] == "doctor"
}
