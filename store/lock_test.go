package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// lockHelperEnv makes the test binary act as a helper process that holds
// the store lock of the directory it names (see TestMain).
const lockHelperEnv = "MINIBUILD_STORE_LOCK_HELPER"

func TestMain(m *testing.M) {
	if root := os.Getenv(lockHelperEnv); root != "" {
		os.Exit(lockHelper(root))
	}
	os.Exit(m.Run())
}

// lockHelper takes the exclusive store lock, says "locked" on stdout and
// holds the lock until stdin is closed.
func lockHelper(root string) int {
	s, err := Open(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	unlock, err := s.Lock(context.Background(), true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	unlock()
	return 0
}

// tryLock attempts the lock for a short while.
func tryLock(s *Store, exclusive bool) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	return s.Lock(ctx, exclusive)
}

func TestLockAcrossStoreInstances(t *testing.T) {
	root := t.TempDir()
	a, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		firstExcl, secondExc bool
		wantBlocked          bool
	}{
		{"shared then shared", false, false, false},
		{"shared then exclusive", false, true, true},
		{"exclusive then shared", true, false, true},
		{"exclusive then exclusive", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unlockA, err := a.Lock(context.Background(), tt.firstExcl)
			if err != nil {
				t.Fatal(err)
			}
			unlockB, err := tryLock(b, tt.secondExc)
			if tt.wantBlocked {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("second Lock: %v, want it to wait until the deadline", err)
				}
				unlockA()
				unlockA() // a second call is harmless
				unlockB, err = tryLock(b, tt.secondExc)
				if err != nil {
					t.Fatalf("Lock after unlock: %v", err)
				}
				unlockB()
				return
			}
			if err != nil {
				t.Fatalf("second Lock: %v", err)
			}
			unlockB()
			unlockA()
		})
	}
}

func TestLockAcrossProcesses(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if _, err := tryLock(s, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while another process holds it: %v, want a wait until the deadline", err)
	}
	_ = stdin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, true)
	if err != nil {
		t.Fatalf("Lock after the helper released it: %v", err)
	}
	unlock()
}

func TestTagWhileHoldingStoreLock(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "x")
	unlock, err := s.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	done := make(chan error, 1)
	go func() { done <- s.Tag("app", img.manifest) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Tag blocked while the caller held the store lock")
	}
}
