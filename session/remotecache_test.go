package session

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestCacheRecords: mode min exports the steps of the stages the image is
// built from (Result.ImageStages), mode max every step built or reused;
// an entry whose layer blob is gone is left out either way.
func TestCacheRecords(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(rootdir.At(root))
	if err != nil {
		t.Fatal(err)
	}
	blob, err := s.WriteBlob(ocispec.MediaTypeImageLayer, []byte("layer"))
	if err != nil {
		t.Fatal(err)
	}
	key := func(n string) digest.Digest { return digest.FromString(n) }
	for _, n := range []string{"build-1", "final-1", "other-1"} {
		if err := c.Put(cache.Entry{Key: key(n), CreatedBy: n}); err != nil {
			t.Fatal(err)
		}
	}
	gone := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromString("gone"), Size: 4}
	for n, l := range map[string]ocispec.Descriptor{"build-2": blob, "final-2": gone} {
		if err := c.Put(cache.Entry{Key: key(n), CreatedBy: n, Layer: &l, DiffID: l.Digest}); err != nil {
			t.Fatal(err)
		}
	}
	res := &builder.Result{ImageStages: []string{"1", "build"}, Steps: []builder.StepResult{
		{Stage: "build", Cache: builder.CacheBase},
		{Stage: "build", Cache: builder.CacheMiss, Key: key("build-1")},
		{Stage: "build", Cache: builder.CacheHit, Key: key("build-2")},
		{Stage: "other", Cache: builder.CacheMiss, Key: key("other-1")},
		{Stage: "1", Cache: builder.CacheMiss, Key: key("final-1")},
		{Stage: "1", Cache: builder.CacheHit, Key: key("final-2")},
		{Stage: "1", Cache: builder.CacheMiss, Key: key("not in the cache")},
	}}
	ses := &session{tools: Tools{Store: s, Cache: c}}
	for mode, want := range map[CacheMode][]string{CacheMin: {"build-1", "build-2", "final-1"}, CacheMax: {"build-1", "build-2", "other-1", "final-1"}} {
		var got []string
		for _, r := range ses.cacheRecords(res, mode) {
			got = append(got, r.CreatedBy)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("mode %s: %v, want %v", mode, got, want)
		}
	}
}

// TestMetadataFile pins the metadata file's shape: the image, and each
// step with its reason's text, its fields, its key and its layer.
func TestMetadataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "md.json")
	layer := &ocispec.Descriptor{Digest: digest.FromString("layer")}
	res := &builder.Result{Manifest: ocispec.Descriptor{Digest: digest.FromString("m")}, Config: ocispec.Descriptor{Digest: digest.FromString("c")},
		Steps: []builder.StepResult{
			{Index: 1, Line: 1, Stage: "0", Instruction: "FROM scratch", Cache: builder.CacheBase},
			{Index: 2, Line: 2, Stage: "0", Instruction: "COPY a /a", Cache: builder.CacheMiss, Key: digest.FromString("k"), Layer: layer,
				Reason: builder.Reason{Kind: builder.ReasonParent, Cause: builder.CauseCascade, Step: 1, Line: 1}},
		}}
	if err := writeMetadata(path, res, []string{"app:dev"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"image": map[string]any{"name": "app:dev", "manifestDigest": digest.FromString("m").String(), "configDigest": digest.FromString("c").String()},
		"steps": []any{
			map[string]any{"index": 1.0, "line": 1.0, "stage": "0", "instruction": "FROM scratch", "cache": "base", "reason": "", "key": "", "layer": nil},
			map[string]any{"index": 2.0, "line": 2.0, "stage": "0", "instruction": "COPY a /a", "cache": "miss",
				"reason": "parent: cascade from step 1, line 1", "why": map[string]any{"kind": "parent", "cause": "cascade", "step": 1.0, "line": 1.0},
				"key": digest.FromString("k").String(), "layer": layer.Digest.String()},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metadata file:\n%s\nwant %v", data, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("metadata file mode: %v, %v", fi.Mode(), err)
	}
}
