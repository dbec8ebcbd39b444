package executor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// processWithArgs reports whether a host process runs with exactly args as its argv.
func processWithArgs(t *testing.T, args ...string) bool {
	t.Helper()
	want := []byte(strings.Join(args, "\x00") + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Equal(cmdline, want) {
			return true
		}
	}
	return false
}

func TestBackgroundProcessIsGone(t *testing.T) {
	requireRoot(t)
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			start := time.Now()
			// The sleeper keeps stdout open: Run must not wait for it.
			res := run(t, ne.e, rootfs, sh("sleep 4711 & echo started"))
			if res.err != nil || res.stdout != "started\n" {
				t.Fatalf("Run = %v, stdout %q, stderr %q", res.err, res.stdout, res.stderr)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Run took %v; it waited for the background process", d)
			}
			if processWithArgs(t, "sleep", "4711") {
				t.Error("background process still runs after Run returned")
			}
		})
	}
}

func TestCancelKillsTheRun(t *testing.T) {
	requireRoot(t)
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout bytes.Buffer
			p := sh("echo running; exec sleep 4712")
			p.Stdout = &stdout
			done := make(chan error, 1)
			go func() { done <- ne.e.Run(ctx, rootfs, p) }()
			// Wait until the command runs, then cancel.
			deadline := time.Now().Add(20 * time.Second)
			for !processWithArgs(t, "sleep", "4712") {
				if time.Now().After(deadline) {
					t.Fatal("the command never started")
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			start := time.Now()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run = %v, want an error wrapping context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancellation")
			}
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Errorf("Run returned %v after cancellation, want within ~2s", d)
			}
			if processWithArgs(t, "sleep", "4712") {
				t.Error("the command still runs after Run returned")
			}
			assertNotMounted(t, rootfs)
		})
	}
}

func TestHostRootIsRefused(t *testing.T) {
	requireRoot(t)
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) {
			err := ne.e.Run(context.Background(), "/", sh("true"))
			if err == nil || exitCode(err) != -1 {
				t.Errorf("Run with rootfs / = %v, want a refusal", err)
			}
		})
	}
}

func TestConcurrentRuns(t *testing.T) {
	requireRoot(t)
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) {
			const n = 4
			var wg sync.WaitGroup
			results := make([]result, n)
			for i := range n {
				rootfs := newRootfs(t)
				wg.Add(1)
				go func() {
					defer wg.Done()
					var out bytes.Buffer
					p := sh(fmt.Sprintf("echo %d; hostname", i))
					p.Hostname = fmt.Sprintf("box%d", i)
					p.Stdout = &out
					err := ne.e.Run(context.Background(), rootfs, p)
					results[i] = result{stdout: out.String(), err: err}
				}()
			}
			wg.Wait()
			for i, r := range results {
				if want := fmt.Sprintf("%d\nbox%d\n", i, i); r.err != nil || r.stdout != want {
					t.Errorf("run %d = %v, stdout %q, want %q", i, r.err, r.stdout, want)
				}
			}
		})
	}
}
