package cache

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	c, err := Open(t.TempDir())
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
	if !ok || err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("LoadRecord = %+v, %v, %v", got, ok, err)
	}
	if s, ok := got.Find("0", 1); !ok || s.Text != "COPY a /a" {
		t.Errorf("Find(0, 1) = %+v, %v", s, ok)
	}
	if _, ok := got.Find("0", 2); ok {
		t.Errorf("Find of a missing position succeeded")
	}
}

func TestRecordCorruptAndInvalid(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := RecordID("/x", "", "cascade")
	if err := c.SaveRecord(id, Record{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "records", id+".json")
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
