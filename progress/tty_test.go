package progress

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// screen replays what a renderer wrote on a terminal of the given width
// (no wrapping: a line longer than width fails the test) and returns the
// lines it shows, without colour.
func screen(t *testing.T, raw string, width int) []string {
	t.Helper()
	csi := regexp.MustCompile(`^\x1b\[([0-9;]*)([A-Za-z])`)
	lines := [][]rune{nil}
	row, col := 0, 0
	for i := 0; i < len(raw); {
		if m := csi.FindStringSubmatch(raw[i:]); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				row = max(0, row-max(n, 1))
			case "J":
				lines = lines[:row+1]
				lines[row] = lines[row][:min(col, len(lines[row]))]
			case "m":
			default:
				t.Fatalf("unexpected escape sequence %q", m[0])
			}
			i += len(m[0])
			continue
		}
		r, size := []rune(raw[i:])[0], len(string([]rune(raw[i:])[0]))
		i += size
		switch r {
		case '\r':
			col = 0
		case '\n':
			row, col = row+1, 0
			if row == len(lines) {
				lines = append(lines, nil)
			}
		default:
			if r < 0x20 || r == 0x1b {
				t.Fatalf("control character %q reaches the terminal", r)
			}
			l := lines[row]
			for len(l) <= col {
				l = append(l, ' ')
			}
			l[col] = r
			lines[row] = l
			col++
			if col > width {
				t.Fatalf("line %d is longer than %d columns: %q", row, width, string(l))
			}
		}
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func layerDesc(size int64) *ocispec.Descriptor {
	return &ocispec.Descriptor{Digest: digest.FromString(fmt.Sprint(size)), Size: size}
}

// demoSteps is a build whose step 3 missed for a changed source file and
// made steps 4 and 5 miss after it.
var demoSteps = []builder.StepResult{
	{Index: 1, Line: 1, Instruction: "FROM busybox:test", Cache: builder.CacheBase},
	{Index: 2, Line: 2, Instruction: "WORKDIR /app", Cache: builder.CacheHit, Layer: layerDesc(78)},
	{Index: 3, Line: 5, Instruction: "COPY src/ /app/", Cache: builder.CacheMiss, Reason: changed("src/main.go"), Layer: layerDesc(2048)},
	{Index: 4, Line: 6, Instruction: "RUN make", Cache: builder.CacheMiss, Reason: cascadeFrom(3, 5), Layer: layerDesc(5 << 20)},
	{Index: 5, Line: 7, Instruction: "CMD [\"/app/run\"]", Cache: builder.CacheMiss, Reason: cascadeFrom(3, 5)},
}

// feed plays demoSteps into r: step 4 prints seven lines (and a partial
// one) and reports compressing progress; at stop (a step index) it stops
// before that step's StepDone.
func feed(r Renderer, clock *fakeClock, stop int) {
	for _, s := range demoSteps {
		r.Report(builder.StepStarted{Index: s.Index, Total: len(demoSteps), Line: s.Line, Instruction: s.Instruction})
		if s.Index == 4 {
			for i := 1; i <= 7; i++ {
				clock.advance(100 * time.Millisecond)
				r.Report(builder.StepOutput{Index: 4, Stream: "stdout", Data: []byte(fmt.Sprintf("cc -c file%d.c\n", i))})
			}
			clock.advance(100 * time.Millisecond)
			r.Report(builder.StepOutput{Index: 4, Stream: "stderr", Data: []byte("\x1b[1mlinking\x1b[0m 10%\r50%")})
			clock.advance(100 * time.Millisecond)
			r.Report(builder.StepProgress{Index: 4, Action: "compressing", Done: 4 << 20, Total: 12 << 20})
		}
		if s.Index == stop {
			return
		}
		clock.advance(1500 * time.Millisecond)
		r.Report(builder.StepDone{Step: s, Duration: 1500 * time.Millisecond})
	}
}

func newTestTTY(color bool) (*ttyRenderer, *bytes.Buffer, *fakeClock) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(1000, 0)}
	r := newTTYRenderer(&out, ttyOptions{color: color, width: func() int { return 72 }, now: clock.now})
	return r, &out, clock
}

func TestTTYRendererFinish(t *testing.T) {
	r, out, clock := newTestTTY(true)
	feed(r, clock, 0)
	r.Finish(&builder.Result{Manifest: ocispec.Descriptor{Digest: "sha256:abc"}, Steps: demoSteps}, 9*time.Second)
	got := strings.Join(screen(t, out.String(), 72), "\n")
	want := `• [1/5] FROM busybox:test  base
✓ [2/5] WORKDIR /app  CACHED  layer sha256:349c41201b62 78 B
✗ [3/5] COPY src/ /…  built in 1.50s  layer sha256:bfa0ec8bdf29 2.0 KiB
    why: source: changed src/main.go
↳ [4/5] RUN make  built in 1.50s  layer sha256:1e8c1c7e50e5 5.0 MiB
    why: parent: cascade from step 3, line 5
↳ [5/5] CMD ["/app/run"]  built in 1.50s  (no layer)
    why: parent: cascade from step 3, line 5
Cascade: 5 steps: 1 base, 1 cached, 3 built
  • step 1 line 1 base  FROM busybox:test
  ✓ step 2 line 2 hit   WORKDIR /app
  ✗ step 3 line 5 miss  COPY src/ /app/ — source: changed src/main.go
  ↳ step 4 line 6 miss  RUN make — cascade from step 3, line 5
  ↳ step 5 line 7 miss  CMD ["/app/run"] — cascade from step 3, line 5
first miss: step 3 (line 5); 2 steps after it missed in its cascade (↳)
built sha256:abc in 9.00s (1 cached, 3 built)`
	if got != want {
		t.Errorf("final screen:\n%s\nwant:\n%s", got, want)
	}
	raw := out.String()
	for _, c := range []struct{ style, text string }{
		{sgrGreen, "✓ "}, {sgrRed, "✗ "}, {sgrYellow, "↳ "}, {sgrDim, "• "}, {sgrRed, " — source: changed src/main.go"},
	} {
		if !strings.Contains(raw, "\x1b["+c.style+"m"+c.text) {
			t.Errorf("%q is not drawn in style %s", c.text, c.style)
		}
	}
	// Nothing is drawn after Finish.
	n := out.Len()
	r.Report(builder.StepStarted{Index: 9, Total: 9, Instruction: "RUN late"})
	r.Close()
	if out.Len() != n {
		t.Errorf("output after Finish: %q", out.String()[n:])
	}
}

func TestTTYRendererLive(t *testing.T) {
	r, out, clock := newTestTTY(false)
	feed(r, clock, 4)
	r.frame = 3
	r.redraw(nil)
	got := screen(t, out.String(), 72)
	want := []string{
		"⠸ [4/5] RUN make  0.9s",
		"    │ cc -c file4.c",
		"    │ cc -c file5.c",
		"    │ cc -c file6.c",
		"    │ cc -c file7.c",
		"    │ 50%", // a partial line, after its last carriage return
		"    compressing layer: 4.0 MiB written (12.0 MiB of content)",
	}
	if tail := got[len(got)-len(want):]; strings.Join(tail, "\n") != strings.Join(want, "\n") {
		t.Errorf("live area:\n%s\nwant:\n%s", strings.Join(tail, "\n"), strings.Join(want, "\n"))
	}
	if regexp.MustCompile("\x1b\\[[0-9;]*m").MatchString(out.String()) {
		t.Error("colour drawn with colour off")
	}
	// Close leaves the unfinished step and its kept output.
	r.Close()
	got = screen(t, out.String(), 72)
	tail := strings.Join(got[len(got)-9:], "\n")
	wantClose := `✗ [4/5] RUN make  did not finish (0.9s)
    │ cc -c file1.c
    │ cc -c file2.c
    │ cc -c file3.c
    │ cc -c file4.c
    │ cc -c file5.c
    │ cc -c file6.c
    │ cc -c file7.c
    │ 50%`
	if tail != wantClose {
		t.Errorf("after Close:\n%s\nwant:\n%s", tail, wantClose)
	}
}

func TestTTYRendererWarningAndWidth(t *testing.T) {
	r, out, clock := newTestTTY(false)
	r.opts.width = func() int { return 30 }
	r.Report(builder.Warning{Line: 3, Message: "something long enough to need cutting at thirty columns"})
	r.Report(builder.StepStarted{Index: 1, Total: 1, Instruction: "RUN echo a very long command line that cannot fit"})
	clock.advance(2 * time.Second)
	r.Report(builder.StepOutput{Index: 1, Stream: "stdout", Data: []byte("x\ty\n")})
	got := screen(t, out.String(), 30)
	want := []string{
		"warning: line 3: something l…",
		"⠋ [1/1] RUN echo a ver…  2.0s",
		"    │ x       y",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCleanLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"crlf\r", "crlf"},
		{"10%\r20%\r30%", "30%"},
		{"\x1b[31mred\x1b[0m text", "red text"},
		{"\x1b]0;title\x07after", "after"},
		{"\x1b]8;;http://x\x1b\\link", "link"},
		{"a\tb", "a       b"},
		{"ab\x08c\x00d", "abcd"},
		{"bad \xff utf8", "bad � utf8"},
		{"tail esc \x1b", "tail esc "},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := cleanLine(tc.in); got != tc.want {
				t.Errorf("cleanLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// openPTY opens a pseudo-terminal pair with the given width.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

func TestNewRendererSelection(t *testing.T) {
	_, pty := openPTY(t, 123)
	for _, tc := range []struct {
		name, noColor, term string
		mode                Mode
		pty                 bool
		want                string
		color               bool
	}{
		{"auto on a terminal", "", "xterm", Auto, true, "tty", true},
		{"auto with NO_COLOR", "1", "xterm", Auto, true, "tty", false},
		{"auto with TERM=dumb", "", "dumb", Auto, true, "plain", false},
		{"auto to a file", "", "xterm", Auto, false, "plain", false},
		{"tty forced to a file", "", "xterm", TTY, false, "tty", false},
		{"plain on a terminal", "", "xterm", Plain, true, "plain", false},
		{"json", "", "xterm", JSON, true, "json", false},
		{"quiet", "", "xterm", Quiet, true, "quiet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			t.Setenv("TERM", tc.term)
			var w interface{ Write([]byte) (int, error) } = &bytes.Buffer{}
			if tc.pty {
				w = pty
			}
			r := New(tc.mode, w)
			var got string
			switch r := r.(type) {
			case *ttyRenderer:
				got = "tty"
				if r.opts.color != tc.color {
					t.Errorf("colour %v, want %v", r.opts.color, tc.color)
				}
				if tc.pty && r.opts.width() != 123 {
					t.Errorf("width %d, want the terminal's 123", r.opts.width())
				}
			case *plainRenderer:
				got = "plain"
			case *jsonRenderer:
				got = "json"
			case quietRenderer:
				got = "quiet"
			}
			if got != tc.want {
				t.Errorf("New(%q) is %s, want %s", tc.mode, got, tc.want)
			}
		})
	}
}
