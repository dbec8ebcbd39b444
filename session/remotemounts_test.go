package session

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/store"
)

// events records what a session reports.
type events struct {
	mu  sync.Mutex
	got []builder.Event
}

func (e *events) Report(ev builder.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

// notes returns the texts of the Notes reported, one a line.
func (e *events) notes() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.got {
		if n, ok := ev.(Note); ok {
			b.WriteString(n.Text + "\n")
		}
	}
	return b.String()
}

// downloads counts the CacheDownload events reported.
func (e *events) downloads() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.got {
		if _, ok := ev.(CacheDownload); ok {
			n++
		}
	}
	return n
}

// openTestRoot opens a store root in a fresh directory.
func openTestRoot(t *testing.T) Root {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// lease acquires a cache mount directory through m and returns it with
// its release.
func lease(t *testing.T, m builder.CacheMounts, r builder.CacheMountRequest) (string, func()) {
	t.Helper()
	r.Mode, r.UID, r.GID = 0o755, os.Getuid(), os.Getgid()
	dir, release, err := m.Acquire(context.Background(), r)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", r.ID, err)
	}
	return dir, func() {
		if err := release(); err != nil {
			t.Error(err)
		}
	}
}

func TestCacheMountIDs(t *testing.T) {
	cache := func(id, from, source string) builder.StepMount {
		return builder.StepMount{Type: dockerfile.MountCache, ID: id, From: from, Source: source}
	}
	res := &builder.Result{Steps: []builder.StepResult{
		{Mounts: []builder.StepMount{cache("/var/cache/apt", "", ""), cache("seeded", "", "/src"), {Type: dockerfile.MountSecret, ID: "tok"}}},
		{},
		{Mounts: []builder.StepMount{cache("/root/.cache", "", ""), cache("from-stage", "build", "/"), cache("/var/cache/apt", "", "")}},
	}}
	if got, want := cacheMountIDs(res), []string{"/root/.cache", "/var/cache/apt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cacheMountIDs = %q, want %q", got, want)
	}
}

// TestCacheMountsRemote: an export with Mounts carries the directories of
// the build's unseeded cache ids, the same tree giving the same blob; a
// build importing it seeds a new directory of such an id, downloading
// the blob only then, and leaves other ids and seeded requests alone.
func TestCacheMountsRemote(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	client, err := registry.New(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	loc := registry.CacheLocation{Dir: filepath.Join(t.TempDir(), "cache")}

	a := openTestRoot(t)
	dir, release := lease(t, a.CacheMounts(), builder.CacheMountRequest{ID: "/c"})
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"f": "from-A\n", "sub/g": "secret\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../f", filepath.Join(dir, "sub/link")); err != nil {
		t.Fatal(err)
	}
	release()
	res := &builder.Result{Steps: []builder.StepResult{{Mounts: []builder.StepMount{
		{Type: dockerfile.MountCache, ID: "/c"},
		{Type: dockerfile.MountCache, ID: "never made"},
		{Type: dockerfile.MountCache, ID: "/c (seeded from 0123456789ab)", Source: "/src"},
	}}}}
	var evA events
	sa := &session{tools: Tools{Store: a.Store, Cache: a.Cache, CacheMounts: a.CacheMounts(), Registry: client, Reporter: &evA},
		set: Settings{CacheTo: []CacheExport{{Location: loc, Mounts: true}}}}
	first, err := sa.mountRecords(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].ID != "/c" {
		t.Fatalf("mount records %+v, want one of /c", first)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "f"), later, later); err != nil {
		t.Fatal(err)
	}
	if again, err := sa.mountRecords(ctx, res); err != nil || !reflect.DeepEqual(again, first) {
		t.Errorf("the same tree, later mtimes: %+v, %v; want %+v", again, err, first)
	}
	if err := sa.exportCaches(ctx, res); err != nil {
		t.Fatal(err)
	}
	if n := evA.notes(); !strings.Contains(n, "never made has no directory here") || !strings.Contains(n, "and 1 cache mounts to") {
		t.Errorf("export notes:\n%s", n)
	}

	b := openTestRoot(t)
	var evB events
	sb := &session{tools: Tools{Store: b.Store, Cache: b.Cache, CacheMounts: b.CacheMounts(), Registry: client, Reporter: &evB},
		set: Settings{CacheFrom: []registry.CacheLocation{loc}}}
	if err := sb.importCaches(ctx); err != nil {
		t.Fatal(err)
	}
	if n := evB.notes(); !strings.Contains(n, "0 entries and 1 cache mounts from") {
		t.Errorf("import notes:\n%s", n)
	}
	if evB.downloads() != 0 {
		t.Errorf("%d downloads before any cache mount was leased", evB.downloads())
	}
	m := sb.cacheMountsFor()
	got, release := lease(t, m, builder.CacheMountRequest{ID: "/c"})
	release()
	if data, err := os.ReadFile(filepath.Join(got, "sub/link")); err != nil || string(data) != "from-A\n" {
		t.Errorf("seeded /c: sub/link reads %q, %v", data, err)
	}
	if fi, err := os.Stat(filepath.Join(got, "sub/g")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("seeded /c: sub/g %v, %v; want mode 0600", fi, err)
	}
	if evB.downloads() != 1 || b.Store.HasBlob(first[0].Layer.Digest) {
		t.Errorf("after seeding: %d downloads, blob stored %v; want 1, not stored", evB.downloads(), b.Store.HasBlob(first[0].Layer.Digest))
	}
	// A directory that exists is not seeded again.
	if err := os.Remove(filepath.Join(got, "f")); err != nil {
		t.Fatal(err)
	}
	again, release := lease(t, m, builder.CacheMountRequest{ID: "/c"})
	release()
	if _, err := os.Lstat(filepath.Join(again, "f")); err == nil || evB.downloads() != 1 {
		t.Errorf("an existing directory was seeded again (%d downloads)", evB.downloads())
	}
	// A request with a seed of its own keeps it.
	own := false
	_, release = lease(t, m, builder.CacheMountRequest{ID: "/c (seeded from 0123456789ab)", Seed: func(context.Context, string) error { own = true; return nil }})
	release()
	if !own || evB.downloads() != 1 {
		t.Errorf("a seeded request: own seed ran %v, %d downloads", own, evB.downloads())
	}
	other, release := lease(t, m, builder.CacheMountRequest{ID: "/other"})
	release()
	if names, _ := os.ReadDir(other); len(names) != 0 {
		t.Errorf("an id the cache lacks was seeded: %v", names)
	}
}

// TestApplyVerified: a blob whose bytes, size or diffID are not the
// record's fails, after extracting nothing outside the directory.
func TestApplyVerified(t *testing.T) {
	r := openTestRoot(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &session{tools: Tools{Store: r.Store}}
	rec, err := s.snapshotMount("id", src)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := r.Store.ReadBlob(rec.Layer.Digest)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte{}, blob...)
	flipped[len(flipped)-5] ^= 1 // the gzip trailer: the tar still reads
	tests := []struct {
		name string
		blob []byte
		edit func(*registry.CacheMountRecord)
		want string // "" for success
	}{
		{"good", blob, func(*registry.CacheMountRecord) {}, ""},
		{"another diffID", blob, func(r *registry.CacheMountRecord) { r.DiffID = r.Layer.Digest }, "does not match diffID"},
		{"shorter size", blob, func(r *registry.CacheMountRecord) { r.Layer.Size-- }, "digest and size"},
		{"a flipped bit", flipped, func(*registry.CacheMountRecord) {}, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := rec
			tt.edit(&rec)
			dir := t.TempDir()
			err := applyVerified(context.Background(), bytes.NewReader(tt.blob), rec, dir, 0)
			switch {
			case tt.want == "":
				if err != nil {
					t.Fatal(err)
				}
				if data, _ := os.ReadFile(filepath.Join(dir, "f")); string(data) != "content" {
					t.Errorf("f = %q", data)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
