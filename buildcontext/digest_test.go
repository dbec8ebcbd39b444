package buildcontext

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minibuild/minibuild/internal/binenc"
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
	mkTree(t, dir, "hello=hello\n", "empty=", "d/", "ln -> hello", "out -> ../outside/secret",
		"d/f=in d\n", "d/up -> ../hello", "d/e/deep=deep", "d/out -> ../../outside/secret")
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
		{path: "d/f", want: sha([]byte("in d\n"))},
		{path: "d/e/deep", want: sha([]byte("deep"))},
		{path: "d/up", want: sha([]byte("hello\n"))}, // leaves d, stays in the context
		{path: "d/out", wantErr: "hashing d/out:"},
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
				// Rewritten with the same size and an mtime not safely
				// older than the hashing (here: ahead of it, as a skewed
				// clock gives), so it is read in every session.
				p := filepath.Join(dir, "a")
				mkWrite(t, p, "zzzz")
				soon := time.Now().Add(time.Hour)
				if err := os.Chtimes(p, soon, soon); err != nil {
					t.Fatal(err)
				}
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
			cache := filepath.Join(t.TempDir(), "state", "statcache")
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
		cache := filepath.Join(stateDir, "sc")
		mkTree(t, dir, "a=1", "b=2")
		backdate(t, filepath.Join(dir, "a"), 0)
		backdate(t, filepath.Join(dir, "b"), 0)
		session(t, dir, cache, "a", "b")
		assertOnlyFile(t, stateDir, "sc")
		f := readCache(t, cache)
		if f.Dir != dir || len(f.Entries) != 2 || f.Entries["a"].Digest != sha([]byte("1")) {
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
		cache := filepath.Join(t.TempDir(), "sc")
		mkTree(t, dir, "a=1", "b=2", "c=3")
		for _, p := range []string{"a", "b", "c"} {
			backdate(t, filepath.Join(dir, p), 0)
		}
		session(t, dir, cache, "a", "b")
		if err := os.Remove(filepath.Join(dir, "a")); err != nil {
			t.Fatal(err)
		}
		session(t, dir, cache, "c") // only c used: a is gone, b still valid
		f := readCache(t, cache)
		var keys []string
		for k := range f.Entries {
			keys = append(keys, k)
		}
		if len(keys) != 2 || f.Entries["b"].Digest == "" || f.Entries["c"].Digest == "" {
			t.Fatalf("entries after pruning = %v, want b and c", keys)
		}
	})
	t.Run("corrupt, torn, foreign or other-version files are ignored", func(t *testing.T) {
		valid := func(dir string) []byte {
			return statCacheFile{Dir: dir, Entries: map[string]cacheEntry{
				"a": {statKey: statKey{Size: 1}, Digest: sha([]byte("1"))},
			}}.encode()
		}
		for _, tt := range []struct {
			name    string
			content func(dir string) []byte
		}{
			{"json of version 1", func(dir string) []byte {
				return []byte(`{"version":"minibuild.statcache.v1","dir":"` + dir + `","entries":{}}`)
			}},
			{"other format", func(string) []byte { return binenc.NewEncoder("minibuild.statcache.v9").Seal() }},
			{"foreign directory", func(string) []byte { return valid("/elsewhere") }},
			{"torn", func(dir string) []byte { v := valid(dir); return v[:len(v)-3] }},
			{"bit flip", func(dir string) []byte { v := valid(dir); v[len(v)/2] ^= 4; return v }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				cache := filepath.Join(t.TempDir(), "sc")
				mkTree(t, dir, "a=1")
				backdate(t, filepath.Join(dir, "a"), 0)
				if err := os.WriteFile(cache, tt.content(dir), 0o600); err != nil {
					t.Fatal(err)
				}
				got, read, _ := session(t, dir, cache, "a")
				if read != 1 || got["a"] != sha([]byte("1")) {
					t.Fatalf("read %d digest %s", read, got["a"])
				}
				if f := readCache(t, cache); f.Dir != dir || f.Entries["a"].Digest != sha([]byte("1")) {
					t.Fatalf("cache not rewritten in current format: %+v", f)
				}
			})
		}
	})
	t.Run("forged entry with wrong stat is not served", func(t *testing.T) {
		dir := t.TempDir()
		cache := filepath.Join(t.TempDir(), "sc")
		mkTree(t, dir, "a=1")
		f := statCacheFile{Dir: dir, Entries: map[string]cacheEntry{
			"a": {statKey: statKey{Size: 1}, Digest: sha([]byte("forged"))},
		}}
		mkWrite(t, cache, string(f.encode()))
		got, read, cached := session(t, dir, cache, "a")
		if read != 1 || cached != 0 || got["a"] != sha([]byte("1")) {
			t.Fatalf("read %d cached %d digest %s", read, cached, got["a"])
		}
	})
	t.Run("Close twice", func(t *testing.T) {
		dir := t.TempDir()
		c, err := Open(dir, Options{StatCachePath: filepath.Join(t.TempDir(), "sc")})
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
	cache := filepath.Join(t.TempDir(), "sc")
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

func readCache(t *testing.T, p string) statCacheFile {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := decodeStatCache(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
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

func TestRacyWindow(t *testing.T) {
	tests := []struct {
		name   string
		fsType int64
		want   time.Duration
	}{
		{"ext4", 0xEF53, localRacyWindow},
		{"xfs", 0x58465342, localRacyWindow},
		{"btrfs", 0x9123683E, localRacyWindow},
		{"tmpfs", 0x01021994, localRacyWindow},
		{"overlay", 0x794C7630, localRacyWindow},
		{"nfs", 0x6969, remoteRacyWindow},
		{"smb2", 0xFE534D42, remoteRacyWindow},
		{"fuse", 0x65735546, remoteRacyWindow},
		{"unknown", 0x1234, remoteRacyWindow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := racyWindowOf(tt.fsType); got != tt.want {
				t.Fatalf("racyWindowOf(%#x) = %v, want %v", tt.fsType, got, tt.want)
			}
		})
	}
	t.Run("context on a local file system", func(t *testing.T) {
		c := openCtx(t, t.TempDir(), Options{})
		if c.window != localRacyWindow {
			t.Fatalf("window of a temporary directory = %v, want %v", c.window, localRacyWindow)
		}
		if got := c.racyWindow(c.dev + 1); got != remoteRacyWindow {
			t.Fatalf("window of a file on another device = %v, want %v", got, remoteRacyWindow)
		}
	})
	t.Run("a file written a moment ago is hashed again, then trusted", func(t *testing.T) {
		dir := t.TempDir()
		cache := filepath.Join(t.TempDir(), "sc")
		mkTree(t, dir, "a=1")
		now := time.Now()
		if err := os.Chtimes(filepath.Join(dir, "a"), now, now); err != nil {
			t.Fatal(err)
		}
		if _, read, _ := session(t, dir, cache, "a"); read != 1 {
			t.Fatalf("first session read %d", read)
		}
		time.Sleep(time.Until(now.Add(localRacyWindow + 10*time.Millisecond)))
		if _, read, _ := session(t, dir, cache, "a"); read != 1 {
			t.Fatalf("second session read %d: a file just written must not be trusted to the first", read)
		}
		if _, read, cached := session(t, dir, cache, "a"); read != 0 || cached != 1 {
			t.Fatalf("third session read %d cached %d: once older than the window it is trusted", read, cached)
		}
	})
}

func TestDigestOfListedFile(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "sc")
	mkTree(t, dir, "src/a=aaaa", "src/b=bbbb", "src/ln -> a")
	for _, p := range []string{"src/a", "src/b"} {
		backdate(t, filepath.Join(dir, p), 0)
	}
	list := func(c *Context) map[string]File {
		t.Helper()
		files, err := c.Files(Source{Path: "src", IsDir: true})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]File{}
		for _, f := range files {
			m[f.Rel] = f
		}
		return m
	}
	for round, tt := range []struct {
		change             func()
		wantRead, wantHits int
		want               map[string]string
	}{
		{func() {}, 2, 0, map[string]string{"a": "aaaa", "b": "bbbb"}},
		{func() {}, 0, 2, map[string]string{"a": "aaaa", "b": "bbbb"}},
		{func() {
			mkWrite(t, filepath.Join(dir, "src/b"), "BBBB")
			backdate(t, filepath.Join(dir, "src/b"), time.Minute)
		}, 1, 1, map[string]string{"a": "aaaa", "b": "BBBB"}},
	} {
		tt.change()
		c, err := Open(dir, Options{StatCachePath: cache})
		if err != nil {
			t.Fatal(err)
		}
		files := list(c)
		for rel, content := range tt.want {
			d, err := c.Digest(files[rel])
			if err != nil {
				t.Fatal(err)
			}
			if d != sha([]byte(content)) {
				t.Errorf("round %d: Digest(%s) = %s, want the digest of %q", round, rel, d, content)
			}
		}
		if _, err := c.Digest(files["ln"]); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("round %d: Digest of a listed link = %v, want an error", round, err)
		}
		read, hits := c.Stats()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if read != tt.wantRead || hits != tt.wantHits {
			t.Errorf("round %d: read %d, served from the cache %d; want %d and %d", round, read, hits, tt.wantRead, tt.wantHits)
		}
	}
}

func TestOpenThroughDirectoryRoots(t *testing.T) {
	fds := func() int {
		t.Helper()
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	dir := t.TempDir()
	const dirs = 3 * maxDirRoots
	for i := range dirs {
		mkTree(t, dir, fmt.Sprintf("d%02d/f=%d", i, i))
	}
	before := fds()
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for i := range dirs {
					i := (i + w*7 + round) % dirs
					f, err := c.Open(fmt.Sprintf("d%02d/f", i))
					if err != nil {
						t.Error(err)
						return
					}
					b := make([]byte, 8)
					n, _ := f.Read(b)
					f.Close()
					if string(b[:n]) != fmt.Sprint(i) {
						t.Errorf("d%02d/f holds %q", i, b[:n])
					}
				}
			}
		}()
	}
	wg.Wait()
	if open := len(c.dirs.roots); open > maxDirRoots {
		t.Errorf("%d directories kept open, want at most %d", open, maxDirRoots)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if after := fds(); after != before {
		t.Errorf("%d descriptors open before, %d after Close", before, after)
	}
}

func TestOpenHashing(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "sc")
	big := bytes.Repeat([]byte("0123456789abcdef"), 70000)
	mkTree(t, dir, "src/a=aaaa", "src/ln -> a")
	mkWrite(t, filepath.Join(dir, "src/big"), string(big))
	for _, p := range []string{"src/a", "src/big"} {
		backdate(t, filepath.Join(dir, p), 0)
	}
	c, err := Open(dir, Options{StatCachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Files(Source{Path: "src", IsDir: true})
	if err != nil {
		t.Fatal(err)
	}
	byRel := map[string]File{}
	for _, f := range files {
		byRel[f.Rel] = f
	}
	for rel, want := range map[string][]byte{"a": []byte("aaaa"), "big": big} {
		h, err := c.OpenHashing(byRel[rel])
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := io.Copy(&got, h); err != nil {
			t.Fatal(err)
		}
		d, err := h.Digest()
		h.Close()
		if err != nil || d != sha(want) || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%s: digest %s, %v; read %d bytes", rel, d, err, got.Len())
		}
	}
	if _, err := c.OpenHashing(byRel["ln"]); err == nil {
		t.Fatal("OpenHashing of a link succeeded")
	}
	h, err := c.OpenHashing(byRel["big"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Digest(); err == nil || !strings.Contains(err.Error(), "not read to its end") {
		t.Fatalf("Digest of a half-read file: %v", err)
	}
	h.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// What was hashed while copying is in the stat cache: the next build
	// reads nothing.
	got, read, cached := session(t, dir, cache, "src/a", "src/big")
	if read != 0 || cached != 2 || got["src/big"] != sha(big) {
		t.Fatalf("next session read %d, cached %d", read, cached)
	}
}
