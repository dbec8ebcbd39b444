package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// inPTY runs minibuild with stdout and stderr on a pseudo-terminal of 120
// columns, as a person at a terminal would, and returns all it wrote.
func inPTY(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 120}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = slave, slave
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=")
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=") {
			cmd.Env = append(cmd.Env, strings.SplitN(kv, "=", 2)[0]+"=")
		}
	}
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var out bytes.Buffer
	// Read until the last holder of the terminal closes it (EIO).
	_, rerr := io.Copy(&out, master)
	var perr *os.PathError
	if rerr != nil && !(errors.As(rerr, &perr) && errors.Is(perr.Err, unix.EIO)) {
		t.Fatalf("reading the terminal: %v", rerr)
	}
	code := 0
	var ee *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestTTYProgress: on a terminal the default --progress auto draws
// the live view (a spinner that turns, elapsed time, the running step's
// output) and ends with the cascade summary, coloured unless NO_COLOR is
// set, with text marks either way; TERM=dumb gets plain output.
func TestTTYProgress(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{
		"Dockerfile":  "FROM busybox:test\nCOPY src/ /src/\nRUN for i in 1 2 3 4 5 6; do echo step-output-$i; sleep 0.1; done\nRUN echo done > /done\n",
		"src/main.go": "v1",
	})
	build(t, root, ctx, "-t", "app:tty")

	summary := []string{
		"Cascade: 4 steps: 1 base, 0 cached, 3 built",
		"  • step 1 line 1 base  FROM busybox:test",
		"  ✗ step 2 line 2 miss  COPY src/ /src/ — source: changed src/main.go",
		"  ↳ step 3 line 3 miss  RUN for i in 1 2 3 4 5 6; do echo step-output-$i; sleep 0.1; done — cascade from step 2, line 2",
		"  ↳ step 4 line 4 miss  RUN echo done > /done — cascade from step 2, line 2",
		"first miss: step 2 (line 2); 2 steps after it missed in its cascade (↳)",
	}
	for _, tc := range []struct {
		name  string
		env   []string
		color bool
	}{
		{"colour", []string{"TERM=xterm-256color"}, true},
		{"NO_COLOR", []string{"TERM=xterm-256color", "NO_COLOR=1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeTree(t, ctx, map[string]string{"src/main.go": tc.name})
			raw, code := inPTY(t, tc.env, "build", "--root", root, "-t", "app:tty", ctx)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, raw)
			}
			if hasSGR := sgr.MatchString(raw); hasSGR != tc.color {
				t.Errorf("colour drawn: %v, want %v", hasSGR, tc.color)
			}
			if tc.color && !strings.Contains(raw, "\x1b[31m✗ ") {
				t.Error("the first miss's mark is not red")
			}
			plain := sgr.ReplaceAllString(raw, "")
			// The spinner turns: the RUN takes 0.6s and frames change every 0.1s.
			for _, frame := range []string{"⠋ [3/4] RUN", "⠙ [3/4] RUN", "⠹ [3/4] RUN"} {
				if !strings.Contains(plain, frame) {
					t.Errorf("no spinner frame %q", frame)
				}
			}
			if !regexp.MustCompile(`\[3/4\] RUN for i in .*  0\.[1-9]s`).MatchString(plain) {
				t.Error("no elapsed time on the running step")
			}
			if !strings.Contains(plain, "    │ step-output-3\n") || !strings.Contains(plain, "\r\x1b[") {
				t.Error("the running step's output is not drawn in the live area")
			}
			if !strings.Contains(plain, "✗ [2/4] COPY src/ /src/  built in") || !strings.Contains(plain, "    why: source: changed src/main.go\n") {
				t.Error("the finished step's line and reason are missing")
			}
			i := strings.Index(plain, "Cascade:")
			if i < 0 {
				t.Fatalf("no cascade summary:\n%s", plain)
			}
			end := strings.Split(strings.TrimSpace(plain[i:]), "\n")
			if len(end) != len(summary)+1 || strings.Join(end[:len(summary)], "\n") != strings.Join(summary, "\n") {
				t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(end, "\n"), strings.Join(summary, "\n"))
			}
			if !strings.HasPrefix(end[len(end)-1], "built sha256:") || strings.ContainsAny(plain[i:], "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏\x1b") {
				t.Errorf("after the summary:\n%q", plain[i:])
			}
		})
	}
	t.Run("TERM=dumb", func(t *testing.T) {
		raw, code := inPTY(t, []string{"TERM=dumb"}, "build", "--root", root, "-t", "app:tty", ctx)
		if code != 0 || strings.Contains(raw, "\x1b") {
			t.Fatalf("exit %d, escape sequences in plain output:\n%q", code, raw)
		}
		for _, w := range []string{"[3/4] RUN for i", "cascade: 4 steps: 1 base, 3 cached, 0 built", "no miss: every step came from the cache"} {
			if !strings.Contains(raw, w) {
				t.Errorf("plain output lacks %q:\n%s", w, raw)
			}
		}
	})
}
