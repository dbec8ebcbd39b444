package maintenance

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// verifyFixture is a small store: image app:1 of layers base and app, a
// cache entry for each, and a cache-only layer with its entry.
type verifyFixture struct {
	s                *store.Store
	c                *cache.Cache
	image            ocispec.Descriptor
	base, app, extra testLayer
	appKey, extraKey digest.Digest
}

func newVerifyFixture(t *testing.T) verifyFixture {
	t.Helper()
	f := verifyFixture{s: openTestStore(t)}
	f.c = testCache(t, f.s)
	f.base = putLayer(t, f.s, "base", "base content")
	f.app = putLayer(t, f.s, "app", "app content")
	f.extra = putLayer(t, f.s, "extra", "only the cache holds this")
	f.image = putImage(t, f.s, "app:1", []testLayer{f.base, f.app}, "ENV A=1")
	now := time.Now()
	putEntry(t, f.c, "COPY base", &f.base, now)
	f.appKey = putEntry(t, f.c, "COPY app", &f.app, now)
	f.extraKey = putEntry(t, f.c, "COPY extra", &f.extra, now)
	putEntry(t, f.c, "ENV A=1", nil, now)
	return f
}

func verify(t *testing.T, s *store.Store, repair bool) VerifyResult {
	t.Helper()
	res, err := Verify(context.Background(), s, VerifyOptions{Repair: repair})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func TestVerifyCleanStore(t *testing.T) {
	f := newVerifyFixture(t)
	putImage(t, f.s, "", []testLayer{f.extra}) // an untagged image: garbage
	res := verify(t, f.s, false)
	if len(res.Problems) != 0 {
		t.Fatalf("problems in a sound store: %v", res.Problems)
	}
	if res.Images != 1 || res.Entries != 4 || res.Layers != 3 || res.Blobs != 7 {
		t.Errorf("checked %d images, %d entries, %d layers, %d blobs; want 1, 4, 3, 7", res.Images, res.Entries, res.Layers, res.Blobs)
	}
	if res.UnreferencedBlobs != 2 {
		t.Errorf("unreferenced blobs = %d, want 2 (the untagged manifest and config)", res.UnreferencedBlobs)
	}
}

// TestVerifyFindsAndRepairs damages the store in one way per case: Verify
// reports each problem with what it concerns, Repair removes what is bad,
// and a second Verify is clean.
func TestVerifyFindsAndRepairs(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, f verifyFixture)
		// want lists "kind digest" of the problems; digest "" for problems
		// without one.
		want   func(f verifyFixture) []string
		tagged bool // app:1 is still tagged after the repair
	}{
		{"bit flip in an image layer", func(t *testing.T, f verifyFixture) { storetest.FlipBit(t, blobFile(t, f.s, f.app.desc.Digest)) },
			func(f verifyFixture) []string {
				return []string{"blob " + string(f.app.desc.Digest), "image " + string(f.image.Digest), "cache entry " + string(f.appKey)}
			}, false},
		{"right size, wrong content in a cache-only layer", func(t *testing.T, f verifyFixture) {
			other := putLayer(t, f.s, "extra", "only the cache holds thiz")
			data, err := os.ReadFile(blobFile(t, f.s, other.desc.Digest))
			if err != nil || int64(len(data)) != f.extra.desc.Size {
				t.Fatalf("the substitute layer has %d bytes, want %d: %v", len(data), f.extra.desc.Size, err)
			}
			if err := os.WriteFile(blobFile(t, f.s, f.extra.desc.Digest), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, func(f verifyFixture) []string {
			return []string{"blob " + string(f.extra.desc.Digest), "cache entry " + string(f.extraKey)}
		}, true},
		{"truncated layer blob", func(t *testing.T, f verifyFixture) {
			if err := os.Truncate(blobFile(t, f.s, f.extra.desc.Digest), 10); err != nil {
				t.Fatal(err)
			}
		}, func(f verifyFixture) []string {
			return []string{"blob " + string(f.extra.desc.Digest), "cache entry " + string(f.extraKey)}
		}, true},
		{"missing layer blob", func(t *testing.T, f verifyFixture) {
			if err := os.Remove(blobFile(t, f.s, f.extra.desc.Digest)); err != nil {
				t.Fatal(err)
			}
		}, func(f verifyFixture) []string { return []string{"cache entry " + string(f.extraKey)} }, true},
		{"cache entry with the wrong diffID", func(t *testing.T, f verifyFixture) {
			putEntryRaw(t, f, f.extraKey, `{"key":"%K","layer":{"mediaType":"x","digest":"`+string(f.extra.desc.Digest)+`","size":`+itoa(f.extra.desc.Size)+`},"diffID":"`+string(f.app.diffID)+`"}`)
		}, func(f verifyFixture) []string { return []string{"cache entry " + string(f.extraKey)} }, true},
		{"cache entry with the wrong layer size", func(t *testing.T, f verifyFixture) {
			putEntryRaw(t, f, f.extraKey, `{"key":"%K","layer":{"mediaType":"x","digest":"`+string(f.extra.desc.Digest)+`","size":3},"diffID":"`+string(f.extra.diffID)+`"}`)
		}, func(f verifyFixture) []string { return []string{"cache entry " + string(f.extraKey)} }, true},
		{"cache entry with a bad digest string", func(t *testing.T, f verifyFixture) {
			putEntryRaw(t, f, f.extraKey, `{"key":"%K","layer":{"mediaType":"x","digest":"sha256:../../../etc/passwd","size":1},"diffID":"sha256:zz"}`)
		}, func(f verifyFixture) []string { return []string{"cache entry "} }, true},
		{"cache entry that is not JSON", func(t *testing.T, f verifyFixture) { putEntryRaw(t, f, f.extraKey, "\x00garbage") },
			func(f verifyFixture) []string { return []string{"cache entry "} }, true},
		{"stray file among the entries", func(t *testing.T, f verifyFixture) {
			storetest.WriteFile(t, filepath.Join(f.s.Root(), "cache", "entries", "notes.txt"), "x")
		}, func(f verifyFixture) []string { return []string{"cache entry "} }, true},
		{"index entry with a bad digest string", func(t *testing.T, f verifyFixture) {
			editIndex(t, f.s, func(idx string) string {
				return strings.Replace(idx, string(f.image.Digest), "sha256:../../../../etc/shadow", 1)
			})
		}, func(f verifyFixture) []string { return []string{"image sha256:../../../../etc/shadow"} }, false},
		{"index.json not JSON", func(t *testing.T, f verifyFixture) {
			editIndex(t, f.s, func(string) string { return "{\"schemaVersion\":2,\"manifests\":[" })
		},
			func(f verifyFixture) []string { return []string{"index "} }, false},
		{"manifest blob missing", func(t *testing.T, f verifyFixture) {
			if err := os.Remove(blobFile(t, f.s, f.image.Digest)); err != nil {
				t.Fatal(err)
			}
		}, func(f verifyFixture) []string { return []string{"image " + string(f.image.Digest)} }, false},
		{"stray blob file and symlink", func(t *testing.T, f verifyFixture) {
			storetest.WriteFile(t, filepath.Join(f.s.Root(), "blobs", "sha256", "junk"), "x")
			d := digest.FromString("link")
			if err := os.Symlink("/etc/passwd", blobFile(t, f.s, d)); err != nil {
				t.Fatal(err)
			}
		}, func(f verifyFixture) []string { return []string{"blob ", "blob " + string(digest.FromString("link"))} }, true},
		{"partial writes of a dead build", func(t *testing.T, f verifyFixture) {
			storetest.WriteFile(t, filepath.Join(f.s.Root(), "tmp", "blob-123"), "partial")
			storetest.WriteFile(t, filepath.Join(f.s.Root(), "cache", "entries", ".tmp-9"), "{")
		}, func(f verifyFixture) []string { return []string{"leftover ", "leftover "} }, true},
		{"half-unpacked layer of a dead build", func(t *testing.T, f verifyFixture) {
			if err := os.MkdirAll(filepath.Join(f.s.Root(), "layers", "tmp", "sha256-"+f.app.diffID.Encoded()+"-1", "usr"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, func(f verifyFixture) []string { return []string{"unpacked layer "} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newVerifyFixture(t)
			tt.damage(t, f)
			res := verify(t, f.s, false)
			got, want := problemKinds(res.Problems), tt.want(f)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("problems:\n  %s\nwant kinds %q", strings.Join(problemStrings(res.Problems), "\n  "), want)
			}
			for _, p := range res.Problems {
				if p.Path == "" || p.Detail == "" || p.Repaired != "" {
					t.Errorf("problem without path or detail, or repaired without Repair: %+v", p)
				}
			}
			res = verify(t, f.s, true)
			for _, p := range res.Problems {
				if p.Repaired == "" || strings.HasPrefix(p.Repaired, "repair failed") {
					t.Errorf("not repaired: %s", p)
				}
			}
			if after := verify(t, f.s, false); len(after.Problems) != 0 {
				t.Fatalf("problems after the repair:\n  %s", strings.Join(problemStrings(after.Problems), "\n  "))
			}
			_, err := f.s.Resolve("app:1")
			if tagged := err == nil; tagged != tt.tagged {
				t.Errorf("app:1 tagged after the repair: %v, want %v", tagged, tt.tagged)
			}
		})
	}
}

func TestVerifyRepairKeepsUnreadableIndex(t *testing.T) {
	f := newVerifyFixture(t)
	editIndex(t, f.s, func(string) string { return "not json" })
	verify(t, f.s, true)
	matches, _ := filepath.Glob(filepath.Join(f.s.Root(), "index.json.corrupt-*"))
	if len(matches) != 1 {
		t.Fatalf("backups of the unreadable index: %v", matches)
	}
	if data, _ := os.ReadFile(matches[0]); string(data) != "not json" {
		t.Errorf("backup holds %q", data)
	}
	if imgs, err := f.s.Images(); err != nil || len(imgs) != 0 {
		t.Errorf("after the reset: %v, %v", imgs, err)
	}
}

// TestVerifyLeavesRunningBuildsAlone: while another process holds the
// store lock shared (a build), partial writes are not reported, and
// Verify without Repair still runs.
func TestVerifyLeavesRunningBuildsAlone(t *testing.T) {
	f := newVerifyFixture(t)
	unlock := holdBuildLock(t, f.s.Root())
	defer unlock()
	tmp := filepath.Join(f.s.Root(), "tmp", "blob-live")
	storetest.WriteFile(t, tmp, "being written")
	if res := verify(t, f.s, false); len(res.Problems) != 0 {
		t.Errorf("problems while a build runs: %v", res.Problems)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Verify(ctx, f.s, VerifyOptions{Repair: true}); err == nil {
		t.Error("Verify with Repair did not wait for the running build")
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("a running build's file was removed: %v", err)
	}
}

// putEntryRaw writes an entry file for key; %K in content becomes the key.
func putEntryRaw(t *testing.T, f verifyFixture, key digest.Digest, content string) {
	t.Helper()
	storetest.WriteFile(t, filepath.Join(f.s.Root(), "cache", "entries", key.Encoded()+".json"), strings.ReplaceAll(content, "%K", string(key)))
}

// editIndex rewrites index.json through edit.
func editIndex(t *testing.T, s *store.Store, edit func(string) string) {
	t.Helper()
	data, err := os.ReadFile(rootdir.At(s.Root()).Index())
	if err != nil {
		t.Fatal(err)
	}
	storetest.WriteFile(t, rootdir.At(s.Root()).Index(), edit(string(data)))
}

func problemStrings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
