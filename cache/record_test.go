package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/internal/binenc"
	"github.com/minibuild/minibuild/rootdir"
	digest "github.com/opencontainers/go-digest"
)

func TestRecordRoundTrip(t *testing.T) {
	c, err := Open(rootdir.At(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	id := RecordID("/src/Dockerfile", "", "cascade")
	if id == RecordID("/src/Dockerfile", "final", "cascade") || id == RecordID("/other/Dockerfile", "", "cascade") ||
		id == RecordID("/src/Dockerfile", "", "content") {
		t.Fatal("record ids collide across Dockerfiles, targets or modes")
	}
	if _, ok, err := c.LoadRecord(id); ok || err != nil {
		t.Fatalf("missing record: ok=%v err=%v", ok, err)
	}
	r := Record{Dockerfile: "/src/Dockerfile", Mode: "cascade", Steps: []StepRecord{
		{Stage: "0", Position: 0, Index: 1, Line: 1, Text: "FROM scratch"},
		{Stage: "0", Position: 1, Index: 2, Line: 2, Text: "COPY a /a", Vars: map[string]string{"V": "1"},
			Sources: []SourceFile{{Path: "a", Mode: 0o644, Digest: "sha256:0123"}}},
	}}
	if err := c.SaveRecord(id, r); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.LoadRecord(id)
	if !ok || err != nil || got.Steps[1].Sources != nil || got.SourcesDigest == "" {
		t.Fatalf("LoadRecord = %+v, %v, %v; want the steps without their sources", got, ok, err)
	}
	if err := c.LoadSources(id, &got); err != nil {
		t.Fatal(err)
	}
	r.SourcesDigest = got.SourcesDigest
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("after LoadSources\n got %+v\nwant %+v", got, r)
	}
	if s, ok := got.Find("0", 1); !ok || s.Text != "COPY a /a" {
		t.Errorf("Find(0, 1) = %+v, %v", s, ok)
	}
	if _, ok := got.Find("0", 2); ok {
		t.Errorf("Find of a missing position succeeded")
	}
}

func TestRecordCorruptAndInvalid(t *testing.T) {
	root := rootdir.At(t.TempDir())
	c, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	id := RecordID("/x", "", "cascade")
	if err := c.SaveRecord(id, Record{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root.Records(), id+".json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, ok, err := c.LoadRecord(id); ok || !errors.As(err, &ce) {
		t.Fatalf("corrupt record: ok=%v err=%v", ok, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("corrupt record not removed")
	}
	for _, bad := range []string{"", "../../etc/passwd", "zz" + id[2:], id + "00"} {
		if err := c.SaveRecord(bad, Record{}); err == nil {
			t.Errorf("SaveRecord(%q) accepted an invalid id", bad)
		}
	}
}

func TestRecordSourcesFile(t *testing.T) {
	rec := func(digests ...string) Record {
		var src []SourceFile
		for i, d := range digests {
			src = append(src, SourceFile{Path: fmt.Sprintf("src/f%d", i), Mode: 0o100644, UID: 1, GID: -1, Digest: digest.Digest(d)})
		}
		src = append(src, SourceFile{Path: "src/ln", Mode: 0o120777, Linkname: "../x\n\ty"})
		return Record{Dockerfile: "/d", Mode: "content", Steps: []StepRecord{
			{Stage: "0", Text: "FROM scratch"},
			{Stage: "0", Position: 1, Text: "COPY src /src", Sources: src, Key: digest.FromString(fmt.Sprint(src))},
			{Stage: "0", Position: 2, Text: "RUN true"},
		}}
	}
	setup := func(t *testing.T) (*Cache, string, string, string) {
		dir := t.TempDir()
		c, err := Open(rootdir.At(dir))
		if err != nil {
			t.Fatal(err)
		}
		id := RecordID("/d", "", "content")
		json := filepath.Join(rootdir.At(dir).Records(), id+".json")
		return c, id, json, strings.TrimSuffix(json, ".json") + ".sources"
	}
	load := func(t *testing.T, c *Cache, id string) (Record, error) {
		t.Helper()
		r, ok, err := c.LoadRecord(id)
		if !ok || err != nil {
			t.Fatalf("LoadRecord: %v, %v", ok, err)
		}
		return r, c.LoadSources(id, &r)
	}

	t.Run("unchanged record rewrites nothing", func(t *testing.T) {
		c, id, jsonPath, srcPath := setup(t)
		if err := c.SaveRecord(id, rec("sha256:aa", "sha256:bb")); err != nil {
			t.Fatal(err)
		}
		j, s := inodeOf(t, jsonPath), inodeOf(t, srcPath)
		if err := c.SaveRecord(id, rec("sha256:aa", "sha256:bb")); err != nil {
			t.Fatal(err)
		}
		if inodeOf(t, jsonPath) != j || inodeOf(t, srcPath) != s {
			t.Fatal("an unchanged record was written again")
		}
		changed := rec("sha256:aa", "sha256:bb")
		changed.Steps[2].Text = "RUN false"
		if err := c.SaveRecord(id, changed); err != nil {
			t.Fatal(err)
		}
		if inodeOf(t, jsonPath) == j || inodeOf(t, srcPath) != s {
			t.Fatal("a change of text must rewrite the record but not its unchanged sources")
		}
		if err := c.SaveRecord(id, rec("sha256:aa", "sha256:cc")); err != nil {
			t.Fatal(err)
		}
		r, err := load(t, c, id)
		if err != nil || r.Steps[1].Sources[1].Digest != "sha256:cc" || r.Steps[2].Text != "RUN true" {
			t.Fatalf("after a change of sources: %v, %+v", err, r.Steps)
		}
	})
	t.Run("a loaded record saved again rewrites nothing", func(t *testing.T) {
		c, id, jsonPath, srcPath := setup(t)
		if err := c.SaveRecord(id, rec("sha256:aa")); err != nil {
			t.Fatal(err)
		}
		j, s := inodeOf(t, jsonPath), inodeOf(t, srcPath)
		if _, err := load(t, c, id); err != nil {
			t.Fatal(err)
		}
		if err := c.SaveRecord(id, rec("sha256:aa")); err != nil {
			t.Fatal(err)
		}
		if inodeOf(t, jsonPath) != j || inodeOf(t, srcPath) != s {
			t.Fatal("the record loaded and saved unchanged was written again")
		}
	})
	t.Run("a loaded record replaced meanwhile is read again", func(t *testing.T) {
		c, id, jsonPath, srcPath := setup(t)
		if err := c.SaveRecord(id, rec("sha256:aa")); err != nil {
			t.Fatal(err)
		}
		if _, err := load(t, c, id); err != nil {
			t.Fatal(err)
		}
		// Another build of the Dockerfile (another process) saves its own.
		other, err := Open(rootdir.At(filepath.Dir(filepath.Dir(filepath.Dir(jsonPath)))))
		if err != nil {
			t.Fatal(err)
		}
		if err := other.SaveRecord(id, rec("sha256:zz")); err != nil {
			t.Fatal(err)
		}
		j, s := inodeOf(t, jsonPath), inodeOf(t, srcPath)
		if err := c.SaveRecord(id, rec("sha256:zz")); err != nil {
			t.Fatal(err)
		}
		if inodeOf(t, jsonPath) != j || inodeOf(t, srcPath) != s {
			t.Fatal("saving the record the other build saved wrote it again: the one loaded before was compared")
		}
		r, err := load(t, c, id)
		if err != nil || r.Steps[1].Sources[0].Digest != "sha256:zz" {
			t.Fatalf("after the other build's save: %v, %+v", err, r.Steps)
		}
	})
	t.Run("many files round-trip", func(t *testing.T) {
		c, id, _, _ := setup(t)
		var ds []string
		for i := range 5000 {
			ds = append(ds, digest.FromString(fmt.Sprint(i)).String())
		}
		want := rec(ds...)
		if err := c.SaveRecord(id, want); err != nil {
			t.Fatal(err)
		}
		got, err := load(t, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Steps, want.Steps) {
			t.Fatal("sources differ after a round trip")
		}
	})
	damage := []struct {
		name   string
		change func(t *testing.T, c *Cache, id, jsonPath, srcPath string)
		want   string
	}{
		{"missing", func(t *testing.T, _ *Cache, _, _, src string) { os.Remove(src) }, "no such file"},
		{"bit flip", func(t *testing.T, _ *Cache, _, _, src string) {
			b, _ := os.ReadFile(src)
			b[len(b)/2] ^= 1
			os.WriteFile(src, b, 0o644)
		}, "the record names"},
		{"replaced by another build's", func(t *testing.T, c *Cache, id, _, src string) {
			other, _ := os.ReadFile(src)
			if err := c.SaveRecord(id, rec("sha256:other")); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(src, other, 0o644)
		}, "the record names"},
		{"written by an older version", func(t *testing.T, _ *Cache, _, jsonPath, _ string) {
			os.WriteFile(jsonPath, []byte(`{"dockerfile":"/d","steps":[{"stage":"0"},{"stage":"0","position":1,"sources":[{"Path":"a"}]}]}`), 0o644)
		}, "names no sources file"},
	}
	for _, tt := range damage {
		t.Run(tt.name, func(t *testing.T) {
			c, id, jsonPath, srcPath := setup(t)
			if err := c.SaveRecord(id, rec("sha256:aa")); err != nil {
				t.Fatal(err)
			}
			tt.change(t, c, id, jsonPath, srcPath)
			r, err := load(t, c, id)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadSources = %v, want an error with %q", err, tt.want)
			}
			for _, s := range r.Steps {
				if s.Sources != nil {
					t.Fatalf("step %d has sources after a failed load", s.Position)
				}
			}
		})
	}
}

func TestDecodeSourcesRejects(t *testing.T) {
	steps := []StepRecord{{}, {Sources: []SourceFile{{Path: "a"}}}}
	good := encodeSources(steps)
	if _, err := decodeSources(good, 1); err == nil || !strings.Contains(err.Error(), "step 1 in a record of 1") {
		t.Fatalf("sources of a step past the record's end: %v", err)
	}
	if _, err := decodeSources(good[:len(good)-1], 2); !errors.Is(err, binenc.ErrFormat) {
		t.Fatalf("torn file: %v", err)
	}
	if got, err := decodeSources(good, 2); err != nil || len(got) != 1 || got[1][0].Path != "a" {
		t.Fatalf("decodeSources = %v, %v", got, err)
	}
}

func inodeOf(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
