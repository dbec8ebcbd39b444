package builder

import (
	"io/fs"
	"reflect"
	"testing"

	"github.com/minibuild/minibuild/dockerfile"
)

func TestCopyDest(t *testing.T) {
	for _, tc := range []struct {
		dest, workdir, want string
		dir                 bool
	}{
		{"/a", "/", "/a", false},
		{"/a/", "/", "/a", true},
		{".", "/app", "/app", true},
		{"", "/app", "/app", true},
		{"x", "/app", "/app/x", false},
		{"sub/", "/app", "/app/sub", true},
		{"../up", "/app/w", "/app/up", false},
		{"/a/.", "/", "/a", true},
		{"rel", "", "/rel", false},
	} {
		got, dir := copyDest(tc.dest, tc.workdir)
		if got != tc.want || dir != tc.dir {
			t.Errorf("copyDest(%q, %q) = %q, %v; want %q, %v", tc.dest, tc.workdir, got, dir, tc.want, tc.dir)
		}
	}
}

func TestParseChmod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want fs.FileMode
		err  bool
	}{
		{"0755", 0o755, false},
		{"644", 0o644, false},
		{"4755", 0o755 | fs.ModeSetuid, false},
		{"2750", 0o750 | fs.ModeSetgid, false},
		{"1777", 0o777 | fs.ModeSticky, false},
		{"999", 0, true},
		{"u+x", 0, true},
		{"17777", 0, true},
	} {
		got, err := parseChmod(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseChmod(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		err  bool
	}{
		{[]string{"80"}, []string{"80/tcp"}, false},
		{[]string{"53/UDP", "80/tcp"}, []string{"53/udp", "80/tcp"}, false},
		{[]string{"8000-8002/tcp"}, []string{"8000/tcp", "8001/tcp", "8002/tcp"}, false},
		{[]string{"80/quic"}, nil, true},
		{[]string{"http"}, nil, true},
		{[]string{"90-80"}, nil, true},
		{[]string{"70000"}, nil, true},
	} {
		got, err := parsePorts(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePorts(%v) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestCheckSignal(t *testing.T) {
	for sig, ok := range map[string]bool{"SIGTERM": true, "TERM": true, "sigquit": true, "9": true, "SIGRTMIN+3": true, "0": false, "65": false, "SIGNOPE": false, "": false} {
		if err := checkSignal(sig); (err == nil) != ok {
			t.Errorf("checkSignal(%q) = %v, want ok=%v", sig, err, ok)
		}
	}
}

func TestRunArgs(t *testing.T) {
	s := &stage{}
	shellS := &stage{img: Image{Config: Config{Shell: []string{"/bin/bash", "-c"}}}}
	for _, tc := range []struct {
		name string
		s    *stage
		in   *dockerfile.RunInstruction
		want []string
	}{
		{"shell form", s, &dockerfile.RunInstruction{Command: []string{"echo hi"}, PrependShell: true}, []string{"/bin/sh", "-c", "echo hi"}},
		{"SHELL", shellS, &dockerfile.RunInstruction{Command: []string{"echo hi"}, PrependShell: true}, []string{"/bin/bash", "-c", "echo hi"}},
		{"exec form", s, &dockerfile.RunInstruction{Command: []string{"/bin/true", "a b"}}, []string{"/bin/true", "a b"}},
		{"heredoc script", s, &dockerfile.RunInstruction{Command: []string{"<<EOF"}, PrependShell: true,
			Heredocs: []dockerfile.Heredoc{{Name: "EOF", Content: "echo one\necho two\n"}}}, []string{"/bin/sh", "-c", "echo one\necho two\n"}},
		{"heredoc as input", s, &dockerfile.RunInstruction{Command: []string{"cat <<EOT > /f"}, PrependShell: true,
			Heredocs: []dockerfile.Heredoc{{Name: "EOT", Content: "line\n"}}}, []string{"/bin/sh", "-c", "cat <<EOT > /f\nline\nEOT"}},
		{"heredoc with a shebang", s, &dockerfile.RunInstruction{Command: []string{"<<EOF"}, PrependShell: true,
			Heredocs: []dockerfile.Heredoc{{Name: "EOF", Content: "#!/bin/awk -f\nBEGIN { print 1 }\n"}}}, []string{"/bin/awk", "-f", "/dev/stdin"}},
	} {
		if got, _ := runArgs(tc.s, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: runArgs = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSetEnvKeepsOrder(t *testing.T) {
	env := []string{"PATH=/bin", "A=1"}
	env = setEnv(env, "PATH", "/usr/bin")
	env = setEnv(env, "B", "2")
	if want := []string{"PATH=/usr/bin", "A=1", "B=2"}; !reflect.DeepEqual(env, want) {
		t.Errorf("setEnv: %q, want %q", env, want)
	}
}

func TestCanonicalIgnoresLines(t *testing.T) {
	parse := func(text string) dockerfile.Instruction {
		df, err := dockerfile.Parse(stringsReader(text), "Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		return df.Stages[0].Instructions[0]
	}
	a := parse("FROM scratch\nCOPY a /b\n")
	b := parse("FROM scratch\n\n\n# moved down\nCOPY a /b\n")
	c := parse("FROM scratch\nCOPY a /c\n")
	if canonical(a) != canonical(b) {
		t.Errorf("moving an instruction changed its key text: %q vs %q", canonical(a), canonical(b))
	}
	if canonical(a) == canonical(c) {
		t.Errorf("a changed destination kept the key text %q", canonical(a))
	}
}

func TestParentsPath(t *testing.T) {
	for in, want := range map[string]string{"a/b/c.txt": "a/b/c.txt", "./a/b": "a/b", "src/./pkg/x": "pkg/x"} {
		if got := parentsPath(in); got != want {
			t.Errorf("parentsPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChainIdentity(t *testing.T) {
	if chainIdentity(nil) == chainIdentity([]digestT{digestT("sha256:" + sixtyFour("a"))}) {
		t.Error("an empty chain has the identity of a one-layer chain")
	}
}
