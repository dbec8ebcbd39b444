package dockerfile

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

func TestLineTooLong(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes-len("RUN "))
	tests := []struct {
		name    string
		src     string
		wantErr string
	}{
		{"at the limit", "FROM a\nRUN " + long + "\n", ""},
		{"at the limit without newline", "FROM a\nRUN " + long, ""},
		{"one byte over", "FROM a\n\nRUN " + long + "y\nRUN true\n", "Dockerfile:3: line too long (max 65535 bytes)"},
		{"over without newline", "FROM a\nRUN " + long + "y", "Dockerfile:2: line too long (max 65535 bytes)"},
		{"carriage return counts", "FROM a\r\nRUN " + long + "\r\n", "Dockerfile:2: line too long (max 65535 bytes)"},
		{"in a heredoc body", "FROM a\nRUN <<EOF\nok\n" + long + "yyyyy\nEOF\n", "Dockerfile:4: line too long (max 65535 bytes)"},
		{"in a continuation", "FROM a\nRUN a \\\n" + long + "yyyyy\n", "Dockerfile:3: line too long (max 65535 bytes)"},
		{"far beyond 1 MiB", "FROM a\nRUN " + strings.Repeat("z", 2<<20), "Dockerfile:2: line too long (max 65535 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df, err := Parse(strings.NewReader(tt.src), "Dockerfile")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				run := df.Stages[0].Instructions[0].(*RunInstruction)
				if run.Command[0] != long {
					t.Errorf("command has %d bytes, want %d", len(run.Command[0]), len(long))
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	inner := errors.New("boom")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "Dockerfile", Line: 7, Err: inner}, "Dockerfile:7: boom"},
		{&Error{File: "build/Dockerfile.dev", Err: inner}, "build/Dockerfile.dev: boom"},
		{&Error{File: "Dockerfile", Line: 1}, "Dockerfile:1: unknown error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(tests[0].err, inner) {
		t.Error("errors.Is does not see the wrapped error")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestParseReadError(t *testing.T) {
	_, err := Parse(failingReader{}, "Dockerfile")
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, io.ErrUnexpectedEOF) || de.Line != 0 {
		t.Fatalf("error = %v, want an *Error wrapping io.ErrUnexpectedEOF", err)
	}
}

func TestParseFileName(t *testing.T) {
	_, err := Parse(strings.NewReader("FROM a\nBOGUS x\n"), "sub/Dockerfile.ci")
	if err == nil || err.Error() != "sub/Dockerfile.ci:2: unknown instruction: BOGUS" {
		t.Fatalf("error = %v", err)
	}
	df, err := Parse(strings.NewReader("FROM a\n"), "ctx/Containerfile")
	if err != nil || df.File != "ctx/Containerfile" {
		t.Fatalf("File = %q, err = %v", df.File, err)
	}
}

func TestCopyHeredocSources(t *testing.T) {
	src := "FROM a\nCOPY EOF <<EOF ./file <<-TWO /dst/\nbody\nEOF\n\tsecond\n\tTWO\n"
	_, inst := parseOne(t, src)
	c := inst.(*CopyInstruction)
	wantSources := []string{"EOF", "EOF", "./file", "TWO"}
	wantHeredoc := []bool{false, true, false, true}
	if strings.Join(c.Sources, "|") != strings.Join(wantSources, "|") {
		t.Fatalf("Sources = %q, want %q", c.Sources, wantSources)
	}
	for i, want := range wantHeredoc {
		if got := c.IsHeredocSource(i); got != want {
			t.Errorf("IsHeredocSource(%d) = %v, want %v", i, got, want)
		}
	}
	if c.IsHeredocSource(-1) || c.IsHeredocSource(99) {
		t.Error("IsHeredocSource out of range reported true")
	}
	h, ok := c.HeredocByName("TWO")
	if !ok || h.Content != "second\n" || !h.Chomp || !h.Expand {
		t.Errorf("HeredocByName(TWO) = %+v, %v", h, ok)
	}
	if _, ok := c.HeredocByName("nope"); ok {
		t.Error("HeredocByName(nope) found something")
	}
	if c.Line() != 2 || c.EndLine() != 6 {
		t.Errorf("lines %d-%d, want 2-6", c.Line(), c.EndLine())
	}
}

func TestKeywordsAndLines(t *testing.T) {
	src := "# escape=`\nfrom a as One\nadd x `\n  y\n\nonbuild run true\n"
	df, err := Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	st := df.Stages[0]
	if st.Name != "one" || st.From.Name != "one" || st.Index != 0 {
		t.Errorf("stage = %+v", st)
	}
	var got []string
	for _, inst := range append([]Instruction{st.From}, st.Instructions...) {
		got = append(got, inst.Keyword()+":"+strconv.Itoa(inst.Line())+"-"+strconv.Itoa(inst.EndLine()))
	}
	if want := "FROM:2-2 ADD:3-4 ONBUILD:6-6"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}
