package maintenance

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// indexFixture is a store whose only tag, multi:1, names an image index
// of two untagged images (amd64: layers base and amd; arm64: base and
// arm), with a cache entry for each layer and one for a layer of no image.
type indexFixture struct {
	s            *store.Store
	c            *cache.Cache
	index        ocispec.Descriptor
	amd, arm     ocispec.Descriptor // the images' manifests
	base, al, rl testLayer
	unused       testLayer
	keys         []digest.Digest // the entries of the images' layers
}

func newIndexFixture(t *testing.T) indexFixture {
	t.Helper()
	f := indexFixture{s: openTestStore(t)}
	f.c = testCache(t, f.s)
	f.base = putLayer(t, f.s, "base", "shared by both")
	f.al = putLayer(t, f.s, "amd", "amd64 only")
	f.rl = putLayer(t, f.s, "arm", "arm64 only")
	f.unused = putLayer(t, f.s, "unused", "in no image")
	f.amd = putImage(t, f.s, "", []testLayer{f.base, f.al})
	f.arm = putImage(t, f.s, "", []testLayer{f.base, f.rl})
	amd, arm := f.amd, f.arm
	amd.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	var err error
	if f.index, err = f.s.WriteIndex([]ocispec.Descriptor{amd, arm}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Tag("multi:1", f.index); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, l := range []testLayer{f.base, f.al, f.rl} {
		f.keys = append(f.keys, putEntry(t, f.c, "COPY "+string(l.diffID), &l, now))
	}
	putEntry(t, f.c, "COPY unused", &f.unused, now)
	return f
}

// TestPruneKeepsIndexImages: a tagged index keeps its images' manifests,
// configs and layers, and the cache entries of those layers.
func TestPruneKeepsIndexImages(t *testing.T) {
	f := newIndexFixture(t)
	reached := map[digest.Digest]bool{}
	if err := f.s.WalkImage(f.index, func(d ocispec.Descriptor) { reached[d.Digest] = true },
		func(ocispec.Descriptor, ocispec.Manifest, ocispec.Image) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(reached) != 8 { // index, 2 manifests, 2 configs, 3 layers
		t.Fatalf("the index reaches %d blobs, want 8", len(reached))
	}
	u, err := Usage(context.Background(), f.s)
	if err != nil {
		t.Fatal(err)
	}
	if u.Images != 1 || u.ImageBlobs != 8 || u.CacheBlobs != 1 {
		t.Errorf("usage: %d images of %d blobs, %d cache-only blobs; want 1, 8, 1", u.Images, u.ImageBlobs, u.CacheBlobs)
	}
	prune(t, f.s, PruneOptions{})
	for d := range reached {
		if !f.s.HasBlob(d) {
			t.Errorf("prune removed %s, which the tagged index reaches", d)
		}
	}
	if f.s.HasBlob(f.unused.desc.Digest) {
		t.Error("prune kept the layer of no image")
	}
	got := cacheKeys(t, f.c)
	if want := sorted(f.keys...); !slices.Equal(got, want) {
		t.Errorf("entries left %v, want those of the index's layers %v", got, want)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := f.s.ResolvePlatform("multi:1", ocispec.Platform{OS: "linux", Architecture: arch}); err != nil {
			t.Error(err)
		}
	}
	if v := verify(t, f.s, false); len(v.Problems) != 0 || v.UnreferencedBlobs != 0 || v.Images != 1 {
		t.Errorf("after prune: problems %v, %d unreferenced blobs, %d images", v.Problems, v.UnreferencedBlobs, v.Images)
	}
}

// TestVerifyIndexImages: damage to any image of a tagged index is a
// problem of the index's entry, and the repair untags it.
func TestVerifyIndexImages(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, f indexFixture)
		want   string // in the image problem's detail
	}{
		{"bit flip in the second image's own layer", func(t *testing.T, f indexFixture) {
			storetest.FlipBit(t, blobFile(t, f.s, f.rl.desc.Digest))
		}, "blob " + "%RL" + " is damaged"},
		{"the second image's manifest missing", func(t *testing.T, f indexFixture) {
			if err := os.Remove(blobFile(t, f.s, f.arm.Digest)); err != nil {
				t.Fatal(err)
			}
		}, "%ARM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newIndexFixture(t)
			tt.damage(t, f)
			want := strings.NewReplacer("%RL", string(f.rl.desc.Digest), "%ARM", string(f.arm.Digest)).Replace(tt.want)
			res := verify(t, f.s, false)
			found := false
			for _, p := range res.Problems {
				if p.Kind == "image" && p.Digest == f.index.Digest && strings.HasPrefix(p.Detail, "multi:1: ") && strings.Contains(p.Detail, want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no image problem of multi:1 saying %q:\n  %s", want, strings.Join(problemStrings(res.Problems), "\n  "))
			}
			verify(t, f.s, true)
			if after := verify(t, f.s, false); len(after.Problems) != 0 {
				t.Errorf("problems after the repair:\n  %s", strings.Join(problemStrings(after.Problems), "\n  "))
			}
			if _, err := f.s.Resolve("multi:1"); err == nil {
				t.Error("the damaged index is still tagged after the repair")
			}
		})
	}
}
