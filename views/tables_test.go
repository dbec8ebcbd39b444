package views

import (
	"bytes"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestPrintHistory(t *testing.T) {
	layer := digest.FromString("l")
	rows := []HistoryRow{
		{Missing: true},
		{CreatedBy: "RUN make &&\n  make install " + strings.Repeat("x", 60), Layer: layer, Size: 2048, SharedImages: 2, SharedWith: []string{"a:1", "b:2"}},
		{CreatedBy: "ENV X=1", EmptyLayer: true},
	}
	var out bytes.Buffer
	if err := PrintHistory(&out, rows, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, want := range []string{"LAYER", "<missing>", layer.Encoded()[:12], "<empty layer>"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want it to start with %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "(no history entry)") || !strings.Contains(lines[2], "RUN make && make install xxx") ||
		!strings.Contains(lines[2], "…") || !strings.Contains(lines[2], "2.0 KiB") || !strings.Contains(lines[2], "shared: 2 images") {
		t.Errorf("table:\n%s", out.String())
	}
	out.Reset()
	if err := PrintHistory(&out, rows, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), layer.String()) || !strings.Contains(out.String(), "a:1, b:2") || !strings.Contains(out.String(), strings.Repeat("x", 60)) {
		t.Errorf("--no-trunc table:\n%s", out.String())
	}
}
