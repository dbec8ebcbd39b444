package mountcache

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibuild/minibuild/rootdir"
)

// TestMain lets the test binary be the other process of the two-process
// tests: with MOUNTCACHE_HELPER set, it runs helper instead of the tests.
func TestMain(m *testing.M) {
	if what := os.Getenv("MOUNTCACHE_HELPER"); what != "" {
		if err := helper(what); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper is the other process. "lease" prints "waiting", takes a lease
// of MC_ID in MC_ROOT with MC_SHARING, prints "acquired NANOS DIR", holds
// it until its stdin closes, prints "releasing NANOS", releases it and
// prints "released". "seed" starts a new instance whose seed prints
// "seeding DIR" and never ends: it waits to be killed.
func helper(what string) error {
	c := Open(rootdir.At(os.Getenv("MC_ROOT")))
	o := Options{ID: os.Getenv("MC_ID"), Sharing: Sharing(os.Getenv("MC_SHARING"))}
	if what == "seed" {
		o.Seed = func(dir string) error {
			fmt.Println("seeding", dir)
			time.Sleep(time.Hour) // not select{}: the runtime would end a process with nothing to run
			return nil
		}
	}
	fmt.Println("waiting")
	l, err := c.Acquire(context.Background(), o)
	if err != nil {
		return err
	}
	fmt.Println("acquired", time.Now().UnixNano(), l.Dir())
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Println("releasing", time.Now().UnixNano())
	if err := l.Release(); err != nil {
		return err
	}
	fmt.Println("released")
	return nil
}

// proc is a running helper.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// startHelper runs the helper what for a lease of id in root.
func startHelper(t *testing.T, what, root, id string, sharing Sharing) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MOUNTCACHE_HELPER="+what, "MC_ROOT="+root, "MC_ID="+id, "MC_SHARING="+string(sharing))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
	return p
}

// expect reads the helper's next line, which must start with word, and
// returns its other fields.
func (p *proc) expect(t *testing.T, word string) []string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		f := strings.Fields(line)
		if !ok || len(f) == 0 || f[0] != word {
			t.Fatalf("helper said %q (open %v), want %q", line, ok, word)
		}
		return f[1:]
	case <-time.After(patience):
		t.Fatalf("helper never said %q", word)
	}
	return nil
}

// nanos parses a helper's time.
func nanos(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoProcesses: the sharing rules hold between processes: a second
// locked lease comes only after the first process began its release; a
// shared one is held beside the first, in its directory; a private one
// beside it, in another.
func TestTwoProcesses(t *testing.T) {
	tests := []struct {
		sharing Sharing
		same    bool
		waits   bool
	}{
		{Locked, true, true},
		{Shared, true, false},
		{Private, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.sharing), func(t *testing.T) {
			root := t.TempDir()
			a := startHelper(t, "lease", root, "ccache", tt.sharing)
			a.expect(t, "waiting")
			dirA := a.expect(t, "acquired")[1]
			b := startHelper(t, "lease", root, "ccache", tt.sharing)
			b.expect(t, "waiting")
			var got []string
			if tt.waits {
				// Room for b to reach its wait; the proof is in the times.
				time.Sleep(100 * time.Millisecond)
				select {
				case line := <-b.lines:
					t.Fatalf("b said %q while a held the lease", line)
				default:
				}
				a.stdin.Close()
				releasing := nanos(t, a.expect(t, "releasing")[0])
				got = b.expect(t, "acquired")
				if at := nanos(t, got[0]); at < releasing {
					t.Errorf("b acquired at %d, before a began its release at %d", at, releasing)
				}
			} else {
				got = b.expect(t, "acquired") // while a holds its lease
			}
			if same := got[1] == dirA; same != tt.same {
				t.Errorf("same directory = %v, want %v (%s, %s)", same, tt.same, dirA, got[1])
			}
			if !tt.waits {
				a.stdin.Close()
				a.expect(t, "releasing")
			}
			b.stdin.Close()
			b.expect(t, "releasing")
			for _, p := range []*proc{a, b} {
				p.expect(t, "released")
				if err := p.cmd.Wait(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestKilledProcess: a process killed while it seeds a new instance
// leaves a .new- folder that is not an instance, which Cleanup removes;
// one killed while it holds a lease leaves its instance free to prune.
func TestKilledProcess(t *testing.T) {
	root := t.TempDir()
	c := Open(rootdir.At(root))
	seeder := startHelper(t, "seed", root, "pip", Shared)
	seeder.expect(t, "waiting")
	half := seeder.expect(t, "seeding")[0]
	if !strings.Contains(half, "/"+newPrefix) {
		t.Fatalf("seeding in %s, want a %s folder", half, newPrefix)
	}
	holder := startHelper(t, "lease", root, "held", Locked)
	holder.expect(t, "waiting")
	holder.expect(t, "acquired")
	for _, p := range []*proc{seeder, holder} {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
	if got := ids(list(t, c)); len(got) != 1 || got[0] != "held" {
		t.Errorf("after the kills List gives %q, want only the held instance", got)
	}
	res, err := c.Cleanup()
	if err != nil || len(res.Leftovers) != 1 || !strings.HasPrefix(half, res.Leftovers[0]) {
		t.Errorf("Cleanup = %+v, %v; want the half-seeded folder", res, err)
	}
	if _, err := os.Lstat(half); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", half, err)
	}
	l := acquire(t, c, Options{ID: "pip", Seed: func(dir string) error { writeFile(t, dir, "s", "1"); return nil }})
	if !hasFile(l.Dir(), "s", "1") {
		t.Error("the next lease was not seeded")
	}
	release(t, l)
	res, err = c.Prune(context.Background())
	if err != nil || len(res.Removed) != 2 || len(res.InUse) != 0 {
		t.Errorf("Prune = %+v, %v; want both instances removed", res, err)
	}
}
