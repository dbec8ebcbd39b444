package cache

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/rootdir"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func openTestCache(t *testing.T) (*Cache, string) {
	t.Helper()
	root := rootdir.At(t.TempDir())
	c, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return c, root.CacheEntries()
}

func layerEntry(key digest.Digest) Entry {
	return Entry{
		Key:       key,
		Layer:     &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString("layer"), Size: 123},
		DiffID:    digest.FromString("diff"),
		CreatedBy: "COPY app /srv/app",
	}
}

func TestPutGetTouchListDelete(t *testing.T) {
	c, entries := openTestCache(t)
	k1 := KeyInput{Instruction: "RUN a"}.Key()
	k2 := KeyInput{Instruction: "ENV b=1"}.Key()

	if _, ok, err := c.Get(k1); ok || err != nil {
		t.Fatalf("Get on an empty cache = %v, %v", ok, err)
	}
	before := time.Now().Add(-time.Second)
	if err := c.Put(layerEntry(k1)); err != nil {
		t.Fatal(err)
	}
	meta := Entry{Key: k2, CreatedBy: "ENV b=1", Created: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := c.Put(meta); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(entries, k1.Encoded()+".json")); err != nil {
		t.Errorf("entry file: %v", err)
	}

	got, ok, err := c.Get(k1)
	if !ok || err != nil {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	want := layerEntry(k1)
	if got.Key != k1 || got.Layer == nil || !reflect.DeepEqual(*got.Layer, *want.Layer) || got.DiffID != want.DiffID || got.CreatedBy != want.CreatedBy {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if got.Created.Before(before) || !got.LastUsed.Equal(got.Created) {
		t.Errorf("Put set Created %v, LastUsed %v", got.Created, got.LastUsed)
	}
	got2, ok, err := c.Get(k2)
	if !ok || err != nil || got2.Layer != nil || got2.DiffID != "" || !got2.Created.Equal(meta.Created) || !got2.LastUsed.Equal(meta.Created) {
		t.Errorf("metadata-only entry = %+v, %v, %v", got2, ok, err)
	}

	if err := c.Touch(k2); err != nil {
		t.Fatal(err)
	}
	touched, _, _ := c.Get(k2)
	if !touched.LastUsed.After(meta.Created) || !touched.Created.Equal(meta.Created) {
		t.Errorf("after Touch: Created %v, LastUsed %v", touched.Created, touched.LastUsed)
	}
	if err := c.Touch(KeyInput{Instruction: "absent"}.Key()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Touch of an absent key: %v, want ErrNotFound", err)
	}

	// A crashed Put's temporary file and a stray file are not entries.
	for _, name := range []string{".tmp-123", "README"} {
		if err := os.WriteFile(filepath.Join(entries, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Key > list[1].Key {
		t.Fatalf("List = %+v, want two entries sorted by key", list)
	}

	if err := c.Delete(k1); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(k1); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if _, ok, err := c.Get(k1); ok || err != nil {
		t.Errorf("Get after Delete = %v, %v", ok, err)
	}
	if list, err := c.List(); err != nil || len(list) != 1 || list[0].Key != k2 {
		t.Errorf("List after Delete = %+v, %v", list, err)
	}
}

func TestCorruptEntry(t *testing.T) {
	key := KeyInput{Instruction: "RUN make"}.Key()
	other := KeyInput{Instruction: "RUN other"}.Key()
	tests := []struct {
		name    string
		content string
	}{
		{"truncated json", `{"key":"` + key.String() + `","createdBy":"RU`},
		{"not json", "\x00\x01garbage"},
		{"empty file", ""},
		{"filed under the wrong key", `{"key":"` + other.String() + `","createdBy":"x"}`},
		{"bad layer digest", `{"key":"` + key.String() + `","layer":{"mediaType":"x","digest":"sha256:../../x","size":1},"diffID":"` + other.String() + `"}`},
		{"layer without diffID", `{"key":"` + key.String() + `","layer":{"mediaType":"x","digest":"` + other.String() + `","size":1}}`},
		{"too large", `{"key":"` + key.String() + `","createdBy":"` + strings.Repeat("x", maxEntrySize) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, entries := openTestCache(t)
			path := filepath.Join(entries, key.Encoded()+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			e, ok, err := c.Get(key)
			var ce *CorruptError
			if ok || !errors.As(err, &ce) || ce.Path != path || e.Key != "" {
				t.Fatalf("Get of a corrupt entry = %+v, %v, %v; want a miss with a *CorruptError", e, ok, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("corrupt entry file was not removed: %v", err)
			}
			if _, ok, err := c.Get(key); ok || err != nil {
				t.Errorf("second Get = %v, %v; want a plain miss", ok, err)
			}
			// List reports (and removes) corrupt files but still lists the rest.
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := c.Put(layerEntry(other)); err != nil {
				t.Fatal(err)
			}
			list, err := c.List()
			if !errors.As(err, &ce) {
				t.Errorf("List error = %v, want a *CorruptError", err)
			}
			if len(list) != 1 || list[0].Key != other {
				t.Errorf("List = %+v, want only the good entry", list)
			}
			if err := c.Touch(key); err == nil {
				t.Error("Touch of a removed corrupt entry succeeded")
			}
		})
	}
}

func TestInvalidKeysAndEntries(t *testing.T) {
	c, entries := openTestCache(t)
	for _, key := range []digest.Digest{"", "sha256:../../x", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:abc"} {
		if _, _, err := c.Get(key); err == nil {
			t.Errorf("Get(%q) succeeded", key)
		}
		if err := c.Put(Entry{Key: key}); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if err := c.Touch(key); err == nil {
			t.Errorf("Touch(%q) succeeded", key)
		}
		if err := c.Delete(key); err == nil {
			t.Errorf("Delete(%q) succeeded", key)
		}
	}
	key := KeyInput{}.Key()
	bad := []Entry{
		{Key: key, DiffID: digest.FromString("d")},
		{Key: key, Layer: &ocispec.Descriptor{Digest: "sha256:zz", Size: 1}, DiffID: digest.FromString("d")},
		{Key: key, Layer: &ocispec.Descriptor{Digest: digest.FromString("l"), Size: -1}, DiffID: digest.FromString("d")},
		{Key: key, Layer: &ocispec.Descriptor{Digest: digest.FromString("l"), Size: 1}},
	}
	for i, e := range bad {
		if err := c.Put(e); err == nil {
			t.Errorf("Put of bad entry %d succeeded", i)
		}
	}
	if names, _ := os.ReadDir(entries); len(names) != 0 {
		t.Errorf("refused Puts left files: %v", names)
	}
}

func TestConcurrentPutAndGet(t *testing.T) {
	c, _ := openTestCache(t)
	key := KeyInput{Instruction: "RUN race"}.Key()
	if err := c.Put(layerEntry(key)); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, 2*n)
	for range n {
		go func() {
			var err error
			for range 20 {
				if err = c.Touch(key); err != nil {
					break
				}
			}
			errs <- err
		}()
		go func() {
			var err error
			for range 20 {
				var ok bool
				if _, ok, err = c.Get(key); err != nil || !ok {
					if err == nil {
						err = errors.New("entry missing during concurrent writes")
					}
					break
				}
			}
			errs <- err
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestScanChangesNothing(t *testing.T) {
	c, entries := openTestCache(t)
	good := KeyInput{Instruction: "RUN good"}.Key()
	bad := KeyInput{Instruction: "RUN bad"}.Key()
	if err := c.Put(layerEntry(good)); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		bad.Encoded() + ".json":             `{"key":"` + bad.String() + `","layer":{"digest":"sha256:zz","size":1},"diffID":"sha256:zz"}`,
		"README":                            "not an entry",
		"abc.json":                          "{}",
		".tmp-123":                          "partial",
		"." + bad.Encoded() + ".json.tmp-4": "partial",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(entries, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, corrupt, temps, err := c.Scan()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != good {
		t.Errorf("Scan entries = %+v, want only %s", got, good)
	}
	var paths []string
	for _, ce := range corrupt {
		paths = append(paths, filepath.Base(ce.Path))
	}
	sort.Strings(paths)
	want := []string{"README", bad.Encoded() + ".json", "abc.json"}
	sort.Strings(want)
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("Scan corrupt = %v, want %v", paths, want)
	}
	if len(temps) != 2 || filepath.Base(temps[0]) != "."+bad.Encoded()+".json.tmp-4" || filepath.Base(temps[1]) != ".tmp-123" {
		t.Errorf("Scan temps = %v", temps)
	}
	for name := range files {
		if _, err := os.Stat(filepath.Join(entries, name)); err != nil {
			t.Errorf("Scan removed %s: %v", name, err)
		}
	}
	for _, ce := range corrupt {
		if err := c.RemoveFile(ce.Path); err != nil {
			t.Error(err)
		}
	}
	for _, tmp := range temps {
		if err := c.RemoveFile(tmp); err != nil {
			t.Error(err)
		}
	}
	if err := c.RemoveFile(filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("RemoveFile accepted a path outside the cache")
	}
	if _, corrupt, temps, _ := c.Scan(); len(corrupt) != 0 || len(temps) != 0 {
		t.Errorf("after RemoveFile: corrupt %v, temps %v", corrupt, temps)
	}
}

func TestMayHaveChild(t *testing.T) {
	p1, p2, p3 := digest.FromString("p1"), digest.FromString("p2"), digest.FromString("p3")
	entry := func(key string, parent digest.Digest) Entry {
		return Entry{Key: digest.FromString(key), Parent: parent, CreatedBy: key}
	}
	t.Run("fresh cache indexes parents", func(t *testing.T) {
		c, err := Open(rootdir.At(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		if c.MayHaveChild(p1) {
			t.Fatal("an empty cache may have a child of p1")
		}
		if err := c.Put(entry("a", p1)); err != nil {
			t.Fatal(err)
		}
		if !c.MayHaveChild(p1) || c.MayHaveChild(p2) {
			t.Fatalf("after an entry of p1: p1 %v, p2 %v", c.MayHaveChild(p1), c.MayHaveChild(p2))
		}
		// Deleting leaves the mark: "perhaps" errs on the safe side.
		if err := c.Delete(digest.FromString("a")); err != nil {
			t.Fatal(err)
		}
		if !c.MayHaveChild(p1) {
			t.Fatal("a deleted entry's parent is forgotten")
		}
		// An entry without its parent (a remote import) makes every answer "perhaps".
		if err := c.Put(entry("b", "")); err != nil {
			t.Fatal(err)
		}
		if !c.MayHaveChild(p3) {
			t.Fatal("after an entry without parent, p3 is ruled out")
		}
	})
	t.Run("cache from before the index cannot tell", func(t *testing.T) {
		root := rootdir.At(t.TempDir())
		c, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Put(entry("a", p1)); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(root.CacheParents()); err != nil {
			t.Fatal(err)
		}
		c, err = Open(root) // entries exist: the index is not started again
		if err != nil {
			t.Fatal(err)
		}
		if !c.MayHaveChild(p2) {
			t.Fatal("a cache without an index ruled p2 out")
		}
		if err := c.Put(entry("b", p2)); err != nil {
			t.Fatal(err)
		}
		if !c.MayHaveChild(p3) {
			t.Fatal("a cache without an index ruled p3 out")
		}
	})
	t.Run("invalid parent", func(t *testing.T) {
		c, err := Open(rootdir.At(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		if !c.MayHaveChild("sha256:../x") {
			t.Fatal("an invalid parent was ruled out")
		}
		if err := c.Put(entry("a", "sha256:../x")); err == nil {
			t.Fatal("an entry with an invalid parent was stored")
		}
	})
}

// TestEntryPath: the path EntryPath gives is the file Put writes, and
// Scan reports the same path; an invalid key has none.
func TestEntryPath(t *testing.T) {
	c, entries := openTestCache(t)
	key := KeyInput{Instruction: "RUN path"}.Key()
	if err := c.Put(layerEntry(key)); err != nil {
		t.Fatal(err)
	}
	path, err := c.EntryPath(key)
	if err != nil || path != filepath.Join(entries, key.Encoded()+".json") {
		t.Fatalf("EntryPath = %q, %v", path, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("no file at EntryPath: %v", err)
	}
	for _, bad := range []digest.Digest{"", "sha256:../../x", digest.Digest("md5:" + strings.Repeat("0", 32))} {
		if p, err := c.EntryPath(bad); err == nil {
			t.Errorf("EntryPath(%q) = %q, want an error", bad, p)
		}
	}
}
