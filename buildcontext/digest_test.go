package buildcontext

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

func sha(b []byte) digest.Digest {
	s := sha256.Sum256(b)
	return digest.Digest("sha256:" + hex.EncodeToString(s[:]))
}

// backdate sets a file's times an hour into the past, so it is not racily
// clean when hashed.
func backdate(t *testing.T, p string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-time.Hour - d)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestFileDigest(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "ctx")
	big := make([]byte, 3<<20+17)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	mkTree(t, top, "outside/secret=HOST")
	mkTree(t, dir, "hello=hello\n", "empty=", "d/", "ln -> hello", "out -> ../outside/secret")
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	c := openCtx(t, dir, Options{})
	tests := []struct {
		path    string
		want    digest.Digest
		wantErr string
	}{
		{path: "hello", want: "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
		{path: "empty", want: digest.Digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")},
		{path: "big", want: sha(big)},
		{path: "/hello", want: sha([]byte("hello\n"))},
		{path: "ln", want: sha([]byte("hello\n"))},
		{path: "d", wantErr: "hashing d: not a regular file"},
		{path: "nope", wantErr: "hashing nope:"},
		{path: "out", wantErr: "hashing out:"},
		{path: "../outside/secret", wantErr: "outside the build context"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := c.FileDigest(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FileDigest(%q) = %v, %v; want error %q", tt.path, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("FileDigest(%q) = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}

// session opens dir with the stat cache, hashes paths, closes, and returns
// the digests and Stats.
func session(t *testing.T, dir, cache string, paths ...string) (map[string]digest.Digest, int, int) {
	t.Helper()
	c, err := Open(dir, Options{StatCachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]digest.Digest{}
	for _, p := range paths {
		d, err := c.FileDigest(p)
		if err != nil {
			t.Fatal(err)
		}
		got[p] = d
	}
	read, cached := c.Stats()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return got, read, cached
}

func TestStatCache(t *testing.T) {
	tests := []struct {
		name string
		// change runs between the first and second session.
		change     func(t *testing.T, dir string)
		wantRead   int
		wantCached int
		// wantDigests maps a path to its content after change.
		wantContent map[string]string
	}{
		{
			name:        "unchanged files are not read again",
			change:      func(t *testing.T, dir string) {},
			wantRead:    0,
			wantCached:  3,
			wantContent: map[string]string{"a": "aaaa", "b": "bbbb", "sub/c": "cccc"},
		},
		{
			name: "same size new content and new mtime is read again",
			change: func(t *testing.T, dir string) {
				mkWrite(t, filepath.Join(dir, "a"), "AAAA")
				backdate(t, filepath.Join(dir, "a"), time.Minute)
			},
			wantRead:    1,
			wantCached:  2,
			wantContent: map[string]string{"a": "AAAA", "b": "bbbb", "sub/c": "cccc"},
		},
		{
			name: "mtime-only change is read again with the same digest",
			change: func(t *testing.T, dir string) {
				backdate(t, filepath.Join(dir, "b"), 5*time.Minute)
			},
			wantRead:    1,
			wantCached:  2,
			wantContent: map[string]string{"a": "aaaa", "b": "bbbb", "sub/c": "cccc"},
		},
		{
			name: "replaced by another inode with same size and mtime is read again",
			change: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "sub/c")
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				tmp := filepath.Join(dir, "sub/c.new")
				mkWrite(t, tmp, "CCCC")
				if err := os.Chtimes(tmp, fi.ModTime(), fi.ModTime()); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, p); err != nil {
					t.Fatal(err)
				}
			},
			wantRead:    1,
			wantCached:  2,
			wantContent: map[string]string{"a": "aaaa", "b": "bbbb", "sub/c": "CCCC"},
		},
		{
			name: "racily clean file is not trusted",
			change: func(t *testing.T, dir string) {
				// Rewritten "now" with the same size: its mtime is too
				// recent to cache, so it is read in every session.
				mkWrite(t, filepath.Join(dir, "a"), "zzzz")
			},
			wantRead:    1,
			wantCached:  2,
			wantContent: map[string]string{"a": "zzzz", "b": "bbbb", "sub/c": "cccc"},
		},
	}
	paths := []string{"a", "b", "sub/c"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cache := filepath.Join(t.TempDir(), "state", "statcache.json")
			mkTree(t, dir, "a=aaaa", "b=bbbb", "sub/c=cccc")
			for _, p := range paths {
				backdate(t, filepath.Join(dir, p), 0)
			}
			_, read, cached := session(t, dir, cache, paths...)
			if read != 3 || cached != 0 {
				t.Fatalf("first session: read %d cached %d, want 3 and 0", read, cached)
			}
			tt.change(t, dir)
			got, read, cached := session(t, dir, cache, paths...)
			if read != tt.wantRead || cached != tt.wantCached {
				t.Errorf("second session: read %d cached %d, want %d and %d", read, cached, tt.wantRead, tt.wantCached)
			}
			for p, content := range tt.wantContent {
				if want := sha([]byte(content)); got[p] != want {
					t.Errorf("digest of %s = %s, want %s (of %q)", p, got[p], want, content)
				}
			}
			if strings.HasPrefix(tt.name, "racily") {
				_, read, _ := session(t, dir, cache, "a")
				if read != 1 {
					t.Errorf("third session: racily clean file read %d times, want 1", read)
				}
			}
		})
	}
}

func mkWrite(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStatCacheInSession(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "a=1")
	backdate(t, filepath.Join(dir, "a"), 0)
	c := openCtx(t, dir, Options{}) // no persistent cache: memory only
	for range 3 {
		if _, err := c.FileDigest("a"); err != nil {
			t.Fatal(err)
		}
	}
	if read, cached := c.Stats(); read != 1 || cached != 2 {
		t.Fatalf("Stats() = %d, %d; want 1, 2", read, cached)
	}
}

func TestStatCacheFile(t *testing.T) {
	t.Run("atomic save, no temp files, no rewrite when unchanged", func(t *testing.T) {
		dir := t.TempDir()
		stateDir := t.TempDir()
		cache := filepath.Join(stateDir, "sc.json")
		mkTree(t, dir, "a=1", "b=2")
		backdate(t, filepath.Join(dir, "a"), 0)
		backdate(t, filepath.Join(dir, "b"), 0)
		session(t, dir, cache, "a", "b")
		assertOnlyFile(t, stateDir, "sc.json")
		var f statCacheFile
		readJSON(t, cache, &f)
		if f.Version != statCacheVersion || f.Dir != dir || len(f.Entries) != 2 || f.Entries["a"].Digest != sha([]byte("1")) {
			t.Fatalf("cache file = %+v", f)
		}
		before := inode(t, cache)
		if _, read, cached := session(t, dir, cache, "a", "b"); read != 0 || cached != 2 {
			t.Fatalf("second session read %d cached %d", read, cached)
		}
		if inode(t, cache) != before {
			t.Error("unchanged cache was rewritten")
		}
	})
	t.Run("stale entries are pruned when saving", func(t *testing.T) {
		dir := t.TempDir()
		cache := filepath.Join(t.TempDir(), "sc.json")
		mkTree(t, dir, "a=1", "b=2", "c=3")
		for _, p := range []string{"a", "b", "c"} {
			backdate(t, filepath.Join(dir, p), 0)
		}
		session(t, dir, cache, "a", "b")
		if err := os.Remove(filepath.Join(dir, "a")); err != nil {
			t.Fatal(err)
		}
		session(t, dir, cache, "c") // only c used: a is gone, b still valid
		var f statCacheFile
		readJSON(t, cache, &f)
		var keys []string
		for k := range f.Entries {
			keys = append(keys, k)
		}
		if len(keys) != 2 || f.Entries["b"].Digest == "" || f.Entries["c"].Digest == "" {
			t.Fatalf("entries after pruning = %v, want b and c", keys)
		}
	})
	t.Run("corrupt, foreign or other-version files are ignored", func(t *testing.T) {
		for _, content := range []string{
			"{not json",
			`{"version":"other","dir":"DIR","entries":{"a":{"size":1,"digest":"sha256:bad"}}}`,
			`{"version":"` + statCacheVersion + `","dir":"/elsewhere","entries":{}}`,
		} {
			dir := t.TempDir()
			cache := filepath.Join(t.TempDir(), "sc.json")
			mkTree(t, dir, "a=1")
			mkWrite(t, cache, strings.ReplaceAll(content, "DIR", dir))
			got, read, _ := session(t, dir, cache, "a")
			if read != 1 || got["a"] != sha([]byte("1")) {
				t.Fatalf("with cache %q: read %d digest %s", content, read, got["a"])
			}
			var f statCacheFile
			readJSON(t, cache, &f)
			if f.Version != statCacheVersion || f.Dir != dir {
				t.Fatalf("cache not rewritten in current format: %+v", f)
			}
		}
	})
	t.Run("forged entry with wrong stat is not served", func(t *testing.T) {
		dir := t.TempDir()
		cache := filepath.Join(t.TempDir(), "sc.json")
		mkTree(t, dir, "a=1")
		f := statCacheFile{Version: statCacheVersion, Dir: dir, Entries: map[string]cacheEntry{
			"a": {statKey: statKey{Size: 1}, Digest: sha([]byte("forged"))},
		}}
		data, _ := json.Marshal(f)
		mkWrite(t, cache, string(data))
		got, read, cached := session(t, dir, cache, "a")
		if read != 1 || cached != 0 || got["a"] != sha([]byte("1")) {
			t.Fatalf("read %d cached %d digest %s", read, cached, got["a"])
		}
	})
	t.Run("Close twice", func(t *testing.T) {
		dir := t.TempDir()
		c, err := Open(dir, Options{StatCachePath: filepath.Join(t.TempDir(), "sc.json")})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFileDigestConcurrent(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "sc.json")
	const n = 40
	want := map[string]digest.Digest{}
	for i := range n {
		p := fmt.Sprintf("d%d/f%d", i%4, i)
		content := bytes.Repeat([]byte{byte(i)}, 1000*i)
		mkTree(t, dir, p+"=")
		mkWrite(t, filepath.Join(dir, p), string(content))
		backdate(t, filepath.Join(dir, p), 0)
		want[p] = sha(content)
	}
	for round := range 2 {
		c, err := Open(dir, Options{StatCachePath: cache})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8*n)
		for range 8 {
			wg.Go(func() {
				for p, w := range want {
					got, err := c.FileDigest(p)
					if err != nil {
						errs <- err
					} else if got != w {
						errs <- fmt.Errorf("%s: got %s want %s", p, got, w)
					}
				}
			})
		}
		// Files and Resolve share the ignore matcher; run them alongside.
		wg.Go(func() {
			if _, err := c.Files(Source{Path: "."}); err != nil {
				errs <- err
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		read, cached := c.Stats()
		if read+cached != 8*n {
			t.Errorf("round %d: read %d + cached %d != %d", round, read, cached, 8*n)
		}
		if round == 1 && read != 0 {
			t.Errorf("round 1: read %d files, want all from the stat cache", read)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("%s holds %q, want only %s", dir, names, name)
	}
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatal(errors.New("no stat_t"))
	}
	return st.Ino
}

func TestFileDigestUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file; run as non-root to check unreadable-file errors")
	}
	dir := t.TempDir()
	mkTree(t, dir, "d/locked=x")
	if err := os.Chmod(filepath.Join(dir, "d/locked"), 0); err != nil {
		t.Fatal(err)
	}
	c := openCtx(t, dir, Options{})
	_, err := c.FileDigest("d/locked")
	if err == nil || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "d/locked") {
		t.Fatalf("FileDigest error = %v, want a permission error naming d/locked", err)
	}
}
