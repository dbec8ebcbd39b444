package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadInput: each bad input exits non-zero with a clear one-line error
// naming the file and line or the path, and writes nothing to the store.
func TestBadInput(t *testing.T) {
	requireRoot(t)
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret": "host secret\n"})
	cases := []struct {
		name       string
		dockerfile string
		files      map[string]string
		args       []string
		code       int
		want       string
	}{
		{"unknown instruction", "FROM scratch\nCOPY a /a\nFOO bar\n", nil, nil, 1, "Dockerfile:3: unknown instruction: FOO"},
		{"bad mount option", "FROM scratch\nRUN --mount=type=cache,taget=/c true\n", nil, nil, 1, "Dockerfile:2: --mount=type=cache,taget=/c: unexpected key 'taget'"},
		{"instruction before FROM", "COPY a /a\nFROM scratch\n", nil, nil, 1, "Dockerfile:1:"},
		{"missing source", "FROM scratch\n\nCOPY nope.txt /x\n", nil, nil, 1, "Dockerfile:3:"},
		{"source outside the context", "FROM scratch\nCOPY ../secret /x\n", nil, nil, 1, "Dockerfile:2:"},
		{"glob matching nothing", "FROM scratch\nCOPY *.none /x/\n", nil, nil, 1, "Dockerfile:2:"},
		{"several sources, no slash", "FROM scratch\nCOPY a b /dst\n", map[string]string{"b": "b"}, nil, 1, "Dockerfile:2:"},
		{"bad chmod", "FROM scratch\nCOPY --chmod=999 a /a\n", nil, nil, 1, "Dockerfile:2:"},
		{"unknown flag on COPY", "FROM scratch\nCOPY --bogus=1 a /a\n", nil, nil, 1, "Dockerfile:2:"},
		{"bad variable syntax", "FROM scratch\nENV A=${B\n", nil, nil, 1, "Dockerfile:2:"},
		{"empty Dockerfile", "\n# only a comment\n", nil, nil, 1, "Dockerfile"},
		{"bad CLI flag", "FROM scratch\n", nil, []string{"--progress", "bogus"}, 2, "--progress"},
		{"unknown CLI flag", "FROM scratch\n", nil, []string{"--frobnicate"}, 2, "frobnicate"},
		{"bad output", "FROM scratch\n", nil, []string{"-o", "type=zip,dest=x"}, 2, "unknown type"},
		{"bad tag", "FROM scratch\n", nil, []string{"-t", "UPPER:case"}, 2, "invalid tag"},
		{"bad platform", "FROM scratch\n", nil, []string{"--platform", "windows/amd64"}, 2, "platform"},
		{"unknown base", "FROM nosuchimage:1\n", nil, nil, 1, "Dockerfile:1:"},
		{"expansion bomb", "FROM scratch\nENV A=xxxxxxxxxxxxxxxx\n" + strings.Repeat("ENV A=$A$A\n", 40), nil, nil, 1, "Dockerfile:18: ENV expands to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root, ctx := t.TempDir(), filepath.Join(t.TempDir(), "ctx")
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile, "a": "a\n"})
			writeTree(t, ctx, tc.files)
			if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(filepath.Dir(ctx), "secret")); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"build", "--root", root}, tc.args...)
			r := mb(t, append(args, ctx)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 0 && tc.code == 2 {
				t.Errorf("usage error is not one line: %q", r.stderr)
			}
			if n := blobCount(t, root); n != 0 {
				t.Errorf("a failed build left %d blobs in the store", n)
			}
		})
	}
}

// TestDockerfileCorners: malformed Dockerfiles fail at once with
// an error naming the line, and write nothing to the store.
func TestDockerfileCorners(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	long := strings.Repeat("x", 2<<20)
	cases := []struct {
		name, dockerfile, want string
	}{
		{"a line over 1 MiB", "FROM busybox:test\nLABEL a=" + long + "\n", "Dockerfile:2:"},
		{"a continued line over 1 MiB", "FROM busybox:test\nLABEL a=\\\n" + long + "\n", "Dockerfile:3:"},
		{"a NUL byte", "FROM busybox:test\nRUN echo a\x00b\n", "Dockerfile:2:"},
		{"an unterminated heredoc", "FROM busybox:test\nRUN <<EOF\necho hi\n", "Dockerfile:2:"},
		{"FROM without an image", "FROM\n", "Dockerfile:1:"},
		{"an invalid escape directive", "# escape=x\nFROM busybox:test\n", "Dockerfile:1:"},
		{"a duplicate stage name", "FROM busybox:test AS a\nFROM a AS b\nFROM b AS a\n", "Dockerfile:3:"},
		{"a uid out of range", "FROM busybox:test\nUSER 99999999999999999999\nRUN id\n", "Dockerfile:3:"},
		{"an invalid port", "FROM busybox:test\nEXPOSE 99999\n", "Dockerfile:2:"},
		{"an invalid chmod", "FROM busybox:test\nCOPY --chmod=77777 Dockerfile /x\n", "Dockerfile:2:"},
		{"an empty image tag from an ARG", "ARG X=${X}\nFROM busybox:$X\n", "Dockerfile:2:"},
		{"COPY --from an unknown image", "FROM busybox:test\nCOPY --from=nope /x /y\n", "Dockerfile:2:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.TempDir()
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile})
			before := blobCount(t, root)
			r := mbWithin(t, 30*time.Second, "build", "--root", root, ctx)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want an error naming %q:\n%.2000s", r.code, tc.want, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && len(r.stderr) > 4096 {
				t.Errorf("the error is %d bytes long", len(r.stderr))
			}
			if after := blobCount(t, root); after != before {
				t.Errorf("a failed build wrote %d blobs", after-before)
			}
		})
	}
}
