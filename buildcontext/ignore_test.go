package buildcontext

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The expected lists below were cross-checked against BuildKit's context
// transfer (tonistiigi/fsutil Walk with ExcludePatterns).
func TestDockerignore(t *testing.T) {
	tests := []struct {
		name   string
		tree   []string
		ignore string // content of .dockerignore ("" = no file)
		// dfIgnore, when set, is written as Dockerfile.dockerignore and
		// passed as Options.DockerignorePath.
		dfIgnore string
		// explicit is passed as DockerignorePath without creating it.
		explicit string
		source   string // Files source; "" = "."
		want     []string
	}{
		{
			name:   "no ignore file",
			tree:   []string{"a", "dir/b"},
			want:   []string{"a", "dir", "dir/b"},
			source: ".",
		},
		{
			name:   "star log is rooted",
			tree:   []string{"a.log", "a.txt", "sub/b.log"},
			ignore: "*.log",
			want:   []string{".dockerignore", "a.txt", "sub", "sub/b.log"},
		},
		{
			name:   "double star tmp at any depth",
			tree:   []string{"a.tmp", "a.txt", "sub/b.tmp", "sub/deep/c.tmp", "sub/deep/d"},
			ignore: "**/*.tmp",
			want:   []string{".dockerignore", "a.txt", "sub", "sub/deep", "sub/deep/d"},
		},
		{
			name:   "dir excludes its contents",
			tree:   []string{"dir/a", "dir/sub/b", "dirx", "other/dir/c"},
			ignore: "dir",
			want:   []string{".dockerignore", "dirx", "other", "other/dir", "other/dir/c"},
		},
		{
			name:   "exception inside excluded dir",
			tree:   []string{"dir/keep", "dir/a", "dir/sub/b", "c"},
			ignore: "dir\n!dir/keep",
			want:   []string{".dockerignore", "c", "dir", "dir/keep"},
		},
		{
			name:   "exception for a nested dir",
			tree:   []string{"sub/deep/keep", "sub/deep/z", "sub/y", "x"},
			ignore: "sub\n!sub/deep/keep",
			want:   []string{".dockerignore", "sub", "sub/deep", "sub/deep/keep", "x"},
		},
		{
			name:   "dir star with exception",
			tree:   []string{"dir/a", "dir/b", "dir/sub/c", "e"},
			ignore: "dir/*\n!dir/a",
			want:   []string{".dockerignore", "dir", "dir/a", "e"},
		},
		{
			name:   "exception unrelated to excluded dir",
			tree:   []string{"dir/keep", "other"},
			ignore: "dir\n!other",
			want:   []string{".dockerignore", "other"},
		},
		{
			name:   "wildcard exception walks excluded dirs",
			tree:   []string{"main.go", "README", "sub/x.go", "sub/y"},
			ignore: "*\n!*.go",
			want:   []string{"main.go"},
		},
		{
			name:   "double star exception",
			tree:   []string{"a/keep", "a/b", "c/d/keep", "e"},
			ignore: "**\n!**/keep",
			want:   []string{"a", "a/keep", "c", "c/d", "c/d/keep"},
		},
		{
			name:   "comments and blank lines",
			tree:   []string{"a.txt", "b.txt", "c.txt", "#d"},
			ignore: "# a.txt\n\n   \n#b.txt\n c.txt \n  #d\n",
			want:   []string{".dockerignore", "a.txt", "b.txt"},
		},
		{
			name:   "leading slash is the root",
			tree:   []string{"top.txt", "sub/top.txt"},
			ignore: "/top.txt",
			want:   []string{".dockerignore", "sub", "sub/top.txt"},
		},
		{
			name:   "patterns are cleaned",
			tree:   []string{"a/b", "a/c", "d"},
			ignore: "./a/../a/b/\n/d/.",
			want:   []string{".dockerignore", "a", "a/c"},
		},
		{
			name:   "dockerignore ignores itself and the Dockerfile",
			tree:   []string{"Dockerfile", "app", "x.log"},
			ignore: ".dockerignore\nDockerfile\n*.log",
			want:   []string{"app"},
		},
		{
			name: "later exclusion does not re-check parent results (fsutil)",
			tree: []string{"a/b", "a/c"},
			// MatchesUsingParentResults: "!a" was skipped for "a", so it
			// does not rescue "a/b".
			ignore: "a/b\n!a",
			want:   []string{".dockerignore", "a", "a/c"},
		},
		{
			name:     "Dockerfile.dockerignore takes precedence",
			tree:     []string{"a", "b", "Dockerfile"},
			ignore:   "a",
			dfIgnore: "b\nDockerfile.dockerignore",
			want:     []string{".dockerignore", "Dockerfile", "a"},
		},
		{
			name:     "missing Dockerfile.dockerignore falls back",
			tree:     []string{"a", "b"},
			ignore:   "a",
			explicit: "Dockerfile.dockerignore",
			want:     []string{".dockerignore", "b"},
		},
		{
			name:   "source dir excluded but re-included inside",
			tree:   []string{"dir/keep", "dir/a", "dir/sub/b"},
			ignore: "dir\n!dir/keep",
			source: "dir",
			want:   []string{"keep"},
		},
		{
			name:   "source dir with excluded children",
			tree:   []string{"src/a.go", "src/a_test.go", "src/sub/b_test.go", "src/sub/b.go"},
			ignore: "**/*_test.go",
			source: "src",
			want:   []string{"a.go", "sub", "sub/b.go"},
		},
		{
			name:   "excluded symlink is not listed",
			tree:   []string{"a", "ln -> a", "dir/ln -> ../a"},
			ignore: "ln\ndir/ln",
			want:   []string{".dockerignore", "a", "dir"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mkTree(t, dir, tt.tree...)
			if tt.ignore != "" {
				mkTree(t, dir, ".dockerignore="+tt.ignore)
			}
			var opts Options
			if tt.dfIgnore != "" {
				mkTree(t, dir, "Dockerfile.dockerignore="+tt.dfIgnore)
				opts.DockerignorePath = filepath.Join(dir, "Dockerfile.dockerignore")
			}
			if tt.explicit != "" {
				opts.DockerignorePath = filepath.Join(dir, tt.explicit)
			}
			c := openCtx(t, dir, opts)
			source := tt.source
			if source == "" {
				source = "."
			}
			srcs, err := c.Resolve([]string{source})
			if err != nil {
				t.Fatalf("Resolve(%q): %v", source, err)
			}
			files, err := c.Files(srcs[0])
			if err != nil {
				t.Fatalf("Files(%q): %v", source, err)
			}
			if got := rels(files); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Files(%q) with ignore %q\n got %q\nwant %q", source, tt.ignore, got, tt.want)
			}
		})
	}
}

func TestDockerignoreErrors(t *testing.T) {
	tests := []struct {
		name    string
		ignore  string
		wantErr string
	}{
		{name: "lone bang", ignore: "a\n!", wantErr: `illegal exclusion pattern: "!"`},
		{name: "bad pattern", ignore: "[", wantErr: "syntax error in pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mkTree(t, dir, ".dockerignore="+tt.ignore)
			c, err := Open(dir, Options{})
			if err == nil {
				c.Close()
				t.Fatalf("Open succeeded, want error %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), ".dockerignore") {
				t.Fatalf("Open error %q, want it to name .dockerignore and contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDockerignoreSymlinkOutside(t *testing.T) {
	top := t.TempDir()
	mkTree(t, top, "host-ignore=a", "ctx/a", "ctx/.dockerignore -> ../host-ignore")
	c, err := Open(filepath.Join(top, "ctx"), Options{})
	if err == nil {
		c.Close()
		t.Fatal("Open followed a .dockerignore link out of the context")
	}
}
