package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// localTree builds ctx with its Dockerfile, exports the final filesystem
// with type=local and describes it.
func localTree(t *testing.T, ctx string, extra ...string) map[string]string {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "rootfs")
	args := append([]string{"-o", "type=local,dest=" + dest}, extra...)
	build(t, t.TempDir(), ctx, args...)
	return describeTree(t, dest)
}

// TestCopySemantics checks Docker's COPY/ADD rules, each against the
// filesystem the image ends up with.
func TestCopySemantics(t *testing.T) {
	requireRoot(t)
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{{"pkg/", ""}, {"pkg/readme", "in archive\n"}} {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}
		if f.body == "" {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	gz.Close()

	cases := []struct {
		name       string
		dockerfile string
		files      map[string]string
		want       map[string]string
	}{
		{"file to path and file to dir/", "FROM scratch\nCOPY a.txt /x\nCOPY a.txt /d/\n",
			map[string]string{"a.txt": "A"},
			map[string]string{"x": "-rw-r--r-- 0:0 A", "d": "drwxr-xr-x 0:0", "d/a.txt": "-rw-r--r-- 0:0 A"}},
		{"directory contents not the directory", "FROM scratch\nCOPY dir /dst\n",
			map[string]string{"dir/one": "1", "dir/sub/two": "2"},
			map[string]string{"dst": "drwxr-xr-x 0:0", "dst/one": "-rw-r--r-- 0:0 1", "dst/sub": "drwxr-xr-x 0:0", "dst/sub/two": "-rw-r--r-- 0:0 2"}},
		{"glob and several sources", "FROM scratch\nCOPY *.txt b.md /all/\n",
			map[string]string{"a.txt": "A", "c.txt": "C", "b.md": "B", "skip.log": "no"},
			map[string]string{"all": "drwxr-xr-x 0:0", "all/a.txt": "-rw-r--r-- 0:0 A", "all/c.txt": "-rw-r--r-- 0:0 C", "all/b.md": "-rw-r--r-- 0:0 B"}},
		{"relative destination against WORKDIR", "FROM scratch\nWORKDIR /app\nCOPY a.txt .\nCOPY a.txt sub/\nWORKDIR src\nCOPY a.txt x\n",
			map[string]string{"a.txt": "A"},
			map[string]string{"app": "drwxr-xr-x 0:0", "app/a.txt": "-rw-r--r-- 0:0 A", "app/sub": "drwxr-xr-x 0:0",
				"app/sub/a.txt": "-rw-r--r-- 0:0 A", "app/src": "drwxr-xr-x 0:0", "app/src/x": "-rw-r--r-- 0:0 A"}},
		{"chown and chmod", "FROM scratch\nCOPY --chown=1000:2000 --chmod=0600 a.txt /o/a\nCOPY --chown=7 d /p/\n",
			map[string]string{"a.txt": "A", "d/f": "F"},
			map[string]string{"o": "drw------- 1000:2000", "o/a": "-rw------- 1000:2000 A", "p": "drwxr-xr-x 7:7", "p/f": "-rw-r--r-- 7:7 F"}},
		{"existing directory without slash", "FROM scratch\nCOPY d /etc/\nCOPY a.txt /etc\n",
			map[string]string{"a.txt": "A", "d/x": "X"},
			map[string]string{"etc": "drwxr-xr-x 0:0", "etc/x": "-rw-r--r-- 0:0 X", "etc/a.txt": "-rw-r--r-- 0:0 A"}},
		{"dockerignore with exceptions", "FROM scratch\nCOPY . /ctx/\n",
			map[string]string{".dockerignore": "*.log\nbuild\n!keep.log\nDockerfile\n.dockerignore\n", "a.txt": "A", "x.log": "L", "keep.log": "K", "build/out": "O"},
			map[string]string{"ctx": "drwxr-xr-x 0:0", "ctx/a.txt": "-rw-r--r-- 0:0 A", "ctx/keep.log": "-rw-r--r-- 0:0 K"}},
		{"ADD extracts a local archive and COPY does not", "FROM scratch\nADD pkg.tar.gz /opt/\nCOPY pkg.tar.gz /raw/\n",
			map[string]string{"pkg.tar.gz": archive.String()},
			map[string]string{"opt": "drwxr-xr-x 0:0", "opt/pkg": "drwxr-xr-x 0:0", "opt/pkg/readme": "-rw-r--r-- 0:0 in archive\n",
				"raw": "drwxr-xr-x 0:0", "raw/pkg.tar.gz": "-rw-r--r-- 0:0 " + archive.String()}},
		{"symlink inside a copied directory stays a link", "FROM scratch\nCOPY d /d\n",
			map[string]string{"d/f": "F"},
			map[string]string{"d": "drwxr-xr-x 0:0", "d/f": "-rw-r--r-- 0:0 F", "d/l": "Lrwxrwxrwx 0:0 -> f"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.TempDir()
			writeTree(t, ctx, tc.files)
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile})
			if tc.name == "symlink inside a copied directory stays a link" {
				if err := os.Symlink("f", filepath.Join(ctx, "d", "l")); err != nil {
					t.Fatal(err)
				}
			}
			if d := diffTrees(tc.want, localTree(t, ctx)); d != "" {
				t.Errorf("filesystem differs:\n%s", d)
			}
		})
	}
}
