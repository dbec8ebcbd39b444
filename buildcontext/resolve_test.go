package buildcontext

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// resolveTree is a context next to a directory "outside" holding host data.
func resolveTree(t *testing.T) (ctxDir, outside string) {
	t.Helper()
	top := t.TempDir()
	ctxDir = filepath.Join(top, "ctx")
	outside = filepath.Join(top, "outside")
	mkTree(t, outside, "secret=HOST")
	mkTree(t, ctxDir,
		"a.txt", "b.txt", "c.md", "x", "y", "Dockerfile",
		"dir/a", "dir/b", "dir/sub/c",
		"a/x", "a-b/x", "dir2/x/",
		"ln -> a.txt", "lndir -> dir", "lnchain -> ln",
		"out -> ../outside/secret", "absout -> "+filepath.Join(outside, "secret"),
		"outdir -> ../outside", "loop1 -> loop2", "loop2 -> loop1",
		"dangling -> nowhere",
		"ignored.txt", "skip/a", "skip/b",
		".dockerignore=ignored.txt\nskip\n",
	)
	return ctxDir, outside
}

func TestResolve(t *testing.T) {
	ctxDir, _ := resolveTree(t)
	c := openCtx(t, ctxDir, Options{})

	tests := []struct {
		name     string
		patterns []string
		want     []Source
		wantErr  string
		errIs    error
	}{
		{name: "glob star", patterns: []string{"*.txt"}, want: []Source{{"*.txt", "a.txt", false}, {"*.txt", "b.txt", false}}},
		{name: "glob dir star", patterns: []string{"dir/*"}, want: []Source{{"dir/*", "dir/a", false}, {"dir/*", "dir/b", false}, {"dir/*", "dir/sub", true}}},
		{name: "question mark", patterns: []string{"?"}, want: []Source{{"?", "a", true}, {"?", "x", false}, {"?", "y", false}}},
		{name: "class", patterns: []string{"[ab].txt"}, want: []Source{{"[ab].txt", "a.txt", false}, {"[ab].txt", "b.txt", false}}},
		// filepath.Match negates with '^'; '!' is an ordinary class member.
		{name: "bang in class", patterns: []string{"[!ab]*.txt"}, want: []Source{{"[!ab]*.txt", "a.txt", false}, {"[!ab]*.txt", "b.txt", false}}},
		{name: "negated class", patterns: []string{"[^ab]*.md"}, want: []Source{{"[^ab]*.md", "c.md", false}}},
		// filepath.Walk order, not string order: "a/x" before "a-b/x".
		{name: "glob in middle", patterns: []string{"*/x"}, want: []Source{{"*/x", "a/x", false}, {"*/x", "a-b/x", false}, {"*/x", "dir2/x", true}}},
		{name: "glob deeper", patterns: []string{"dir/*/c"}, want: []Source{{"dir/*/c", "dir/sub/c", false}}},
		{name: "root dot", patterns: []string{"."}, want: []Source{{".", ".", true}}},
		{name: "root dot slash", patterns: []string{"./"}, want: []Source{{"./", ".", true}}},
		{name: "root slash", patterns: []string{"/"}, want: []Source{{"/", ".", true}}},
		{name: "empty is root as in BuildKit", patterns: []string{""}, want: []Source{{"", ".", true}}},
		{name: "leading slash", patterns: []string{"/a.txt"}, want: []Source{{"/a.txt", "a.txt", false}}},
		{name: "leading slash glob", patterns: []string{"/dir/s*"}, want: []Source{{"/dir/s*", "dir/sub", true}}},
		{name: "trailing slash", patterns: []string{"dir/"}, want: []Source{{"dir/", "dir", true}}},
		{name: "dotdot inside", patterns: []string{"dir/../a.txt"}, want: []Source{{"dir/../a.txt", "a.txt", false}}},
		{name: "patterns in order", patterns: []string{"b.txt", "a.txt", "c*"}, want: []Source{{"b.txt", "b.txt", false}, {"a.txt", "a.txt", false}, {"c*", "c.md", false}}},
		{name: "symlink to file", patterns: []string{"ln"}, want: []Source{{"ln", "ln", false}}},
		{name: "symlink chain", patterns: []string{"lnchain"}, want: []Source{{"lnchain", "lnchain", false}}},
		{name: "symlink to dir", patterns: []string{"lndir"}, want: []Source{{"lndir", "lndir", true}}},
		{name: "through symlinked dir", patterns: []string{"lndir/a"}, want: []Source{{"lndir/a", "lndir/a", false}}},
		{name: "glob below symlinked dir", patterns: []string{"lndir/[ab]"}, want: []Source{{"lndir/[ab]", "dir/a", false}, {"lndir/[ab]", "dir/b", false}}},
		{name: "nonexistent", patterns: []string{"nope"}, wantErr: "source nope: no such file or directory", errIs: fs.ErrNotExist},
		{name: "glob matches nothing", patterns: []string{"*.none"}, wantErr: "source *.none: no such file or directory", errIs: fs.ErrNotExist},
		{name: "below a file", patterns: []string{"a.txt/x"}, wantErr: "not a directory"},
		{name: "dangling link", patterns: []string{"dangling"}, wantErr: "source dangling: no such file or directory", errIs: fs.ErrNotExist},
		{name: "link loop", patterns: []string{"loop1"}, wantErr: "too many levels of symbolic links"},
		{name: "escape", patterns: []string{"../x"}, wantErr: "source ../x: outside the build context", errIs: ErrOutsideContext},
		{name: "escape after clean", patterns: []string{"a/../../x"}, wantErr: "source a/../../x: outside the build context", errIs: ErrOutsideContext},
		{name: "escape from root", patterns: []string{"/../x"}, wantErr: "source /../x: outside the build context", errIs: ErrOutsideContext},
		{name: "escape glob", patterns: []string{"../*"}, wantErr: "source ../*: outside the build context", errIs: ErrOutsideContext},
		{name: "link outside", patterns: []string{"out"}, wantErr: "source out: symbolic link out -> ../outside/secret: outside the build context", errIs: ErrOutsideContext},
		{name: "absolute link", patterns: []string{"absout"}, wantErr: "source absout: symbolic link absout -> /", errIs: ErrOutsideContext},
		{name: "through link outside", patterns: []string{"outdir/secret"}, wantErr: "outside the build context", errIs: ErrOutsideContext},
		{name: "glob below link outside", patterns: []string{"outdir/*"}, wantErr: "outside the build context", errIs: ErrOutsideContext},
		{name: "glob matching link outside", patterns: []string{"ou*"}, wantErr: "source ou*: out: symbolic link out", errIs: ErrOutsideContext},
		{name: "ignored file", patterns: []string{"ignored.txt"}, wantErr: "source ignored.txt: ignored.txt: no such file or directory (excluded by .dockerignore)", errIs: fs.ErrNotExist},
		{name: "ignored dir", patterns: []string{"skip"}, wantErr: "no such file or directory (excluded by .dockerignore)", errIs: fs.ErrNotExist},
		{name: "inside ignored dir", patterns: []string{"skip/a"}, wantErr: "no such file or directory", errIs: fs.ErrNotExist},
		{name: "glob matching only ignored", patterns: []string{"ign*"}, wantErr: "source ign*: no such file or directory", errIs: fs.ErrNotExist},
		{name: "glob skips ignored", patterns: []string{"s*"}, wantErr: "source s*: no such file or directory"},
		{name: "second pattern fails", patterns: []string{"a.txt", "nope"}, wantErr: "source nope:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Resolve(tt.patterns)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Resolve(%q) = %v, want error %q", tt.patterns, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve(%q) error %q, want it to contain %q", tt.patterns, err, tt.wantErr)
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Fatalf("Resolve(%q) error %q is not %v", tt.patterns, err, tt.errIs)
				}
				if strings.Contains(err.Error(), "HOST") {
					t.Fatalf("error leaks host content: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.patterns, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Resolve(%q)\n got %+v\nwant %+v", tt.patterns, got, tt.want)
			}
		})
	}
}

func TestResolveSocketIsNotPartOfContext(t *testing.T) {
	ctxDir := t.TempDir()
	mkTree(t, ctxDir, "a")
	// Socket paths are limited to ~108 bytes; bind from inside the dir.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(ctxDir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", "sock")
	os.Chdir(wd)
	if err != nil {
		t.Skipf("cannot create a unix socket here: %v", err)
	}
	defer l.Close()
	c := openCtx(t, ctxDir, Options{})
	if _, err := c.Resolve([]string{"sock"}); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Resolve(sock) error = %v, want not exist", err)
	}
	got, err := c.Resolve([]string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Source{{"*", "a", false}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Resolve(*) = %+v, want %+v", got, want)
	}
	files, err := c.Files(Source{Path: "."})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a"}; !reflect.DeepEqual(rels(files), want) {
		t.Fatalf("Files(.) = %q, want %q", rels(files), want)
	}
}
