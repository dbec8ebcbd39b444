package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errors.New("a build failed"), 1},
		{usageError{errors.New("bad flag")}, 2},
		{fmt.Errorf("wrapped: %w", usageError{errors.New("bad flag")}), 2},
		{containerExit{code: 3}, 3},
		{runFailure{errors.New("cannot start")}, 125},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestRunDispatch runs the command line's dispatch on what needs no store.
func TestRunDispatch(t *testing.T) {
	t.Setenv("MINIBUILD_ROOT", t.TempDir()) // should a case reach a store
	for _, tc := range []struct {
		args   []string
		stdout string // a substring of what it prints
		usage  bool   // a usage error (exit code 2)
	}{
		{args: []string{"--version"}, stdout: "minibuild 0.1.0-dev"},
		{args: []string{"help"}, stdout: "Commands:"},
		{args: []string{"help", "cache"}, stdout: "minibuild cache [--root DIR] ls|du|verify|prune"},
		{args: []string{"cache", "prune", "--help"}, stdout: "--keep-storage"},
		{args: []string{"--help"}, stdout: "Commands:"},
		{args: []string{"cache"}, usage: true},
		{args: []string{"cache", "shrink"}, usage: true},
		{args: []string{"cache", "ls", "extra"}, usage: true},
		{args: []string{"--no-such-flag"}, usage: true},
		{args: []string{"ctx1", "ctx2"}, usage: true},
		{args: []string{"--progress", "loud", "."}, usage: true},
		{args: []string{"-o", "type=zip,dest=x", "."}, usage: true},
		{args: []string{"--push", "."}, usage: true},
		{args: []string{"run", "--network", "bridge", "img"}, usage: true},
		{args: []string{"run", "-v", "./rel:/data", "img"}, usage: true},
		{args: []string{"run", "-v", "data:/", "img"}, usage: true},
		{args: []string{"run", "-v", "data:/data:rx", "img"}, usage: true},
		{args: []string{"run", "--mount", "type=tmpfs,target=/t", "img"}, usage: true},
		{args: []string{"run", "-v", "data:/a", "-v", "other:/a", "img"}, usage: true},
		{args: []string{"help", "volume"}, stdout: "minibuild volume [--root DIR] ls|create|inspect|rm|prune"},
		{args: []string{"volume", "prune", "--help"}, stdout: "never asks"},
		{args: []string{"volume", "ls"}, stdout: "NAME  SIZE  CREATED  LAST USED"},
		{args: []string{"volume", "prune"}, stdout: "freed 0 B: 0 volumes removed"},
		{args: []string{"volume"}, usage: true},
		{args: []string{"volume", "shrink"}, usage: true},
		{args: []string{"volume", "ls", "extra"}, usage: true},
		{args: []string{"volume", "ls", "--format", "yaml"}, usage: true},
		{args: []string{"volume", "create", "a"}, usage: true},
		{args: []string{"volume", "create"}, usage: true},
		{args: []string{"volume", "rm"}, usage: true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tc.args, &out, &errOut)
			if tc.usage {
				if exitCode(err) != 2 {
					t.Fatalf("err %v (exit %d), want a usage error", err, exitCode(err))
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("err %v, stdout:\n%s\nwant it to hold %q", err, out.String(), tc.stdout)
			}
		})
	}
}
