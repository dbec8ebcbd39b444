package executor_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/executor"
)

// A program that uses the built-in executor calls Init first thing in main (tests do it
// in TestMain): the executor re-executes the program as its namespace init.
func Example() {
	if executor.Init() {
		return // not reached: Init runs the command in place of the program
	}
	e := executor.NewBuiltin(executor.BuiltinOptions{StateDir: "/var/lib/minibuild/executor"})
	err := e.Run(context.Background(), "/var/lib/minibuild/rootfs", executor.Process{
		Args:   []string{"/bin/sh", "-c", "echo hello > /greeting"},
		Env:    []string{"LANG=C.UTF-8"},
		Cwd:    "/",
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	})
	var exit *executor.ExitError
	switch {
	case errors.As(err, &exit):
		fmt.Println("the command failed with", exit.Code)
	case err != nil:
		fmt.Println("the command did not run:", err)
	}
}
