package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/rootdir"
)

// TestRecordReadOnlyForAMiss: the last build's record is read to explain
// a miss, and only then. A damaged record is not noticed by a rebuild that
// hits every step (which then replaces it), and is by one that misses,
// which explains its miss without it.
func TestRecordReadOnlyForAMiss(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string // of the rebuild; the first build is "FROM scratch\nENV A=1\nENV B=2\n"
		wantWarn   bool
		wantReason string // of the rebuild's last step
	}{
		{"no change", "FROM scratch\nENV A=1\nENV B=2\n", false, ""},
		{"a miss", "FROM scratch\nENV A=1\nENV B=3\n", true, string(ReasonNew)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.write(map[string]string{"Dockerfile": "FROM scratch\nENV A=1\nENV B=2\n"})
			if _, err := h.build("Dockerfile", Settings{}); err != nil {
				t.Fatal(err)
			}
			id := cache.RecordID(filepath.Join(h.ctxDir, "Dockerfile"), "", string(ModeCascade))
			path := filepath.Join(rootdir.At(h.root).Records(), id+".json")
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the first build kept no record: %v", err)
			}
			if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.write(map[string]string{"Dockerfile": tt.dockerfile})
			if _, err := h.build("Dockerfile", Settings{}); err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, w := range h.events.warnings {
				warned = warned || strings.Contains(w, "last build's record")
			}
			if warned != tt.wantWarn {
				t.Errorf("warned about the damaged record: %v, want %v (warnings %q)", warned, tt.wantWarn, h.events.warnings)
			}
			done := h.events.finished()
			last := done[len(done)-1]
			if got := string(last.Reason.Kind); got != tt.wantReason {
				t.Errorf("last step's reason %q (%v), want kind %q", last.Reason, last.Cache, tt.wantReason)
			}
			if _, ok, err := h.cache.LoadRecord(id); !ok || err != nil {
				t.Errorf("the rebuild left no readable record: %v, %v", ok, err)
			}
		})
	}
}
