package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/manifest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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

func TestPrintVolumes(t *testing.T) {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.Local)
	rows := []VolumeRow{
		{Name: "data", Size: 8192, CreatedAt: created, LastUsedAt: created.Add(time.Hour)},
		{Name: "fresh", Size: 4096, CreatedAt: created},
	}
	var out bytes.Buffer
	if err := PrintVolumes(&out, rows); err != nil {
		t.Fatal(err)
	}
	want := "NAME   SIZE     CREATED              LAST USED\n" +
		"data   8.0 KiB  2024-05-01 12:00:00  2024-05-01 13:00:00\n" +
		"fresh  4.0 KiB  2024-05-01 12:00:00  -\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", out.String(), want)
	}
}

func TestPrintIndex(t *testing.T) {
	a, b := digest.FromString("a"), digest.FromString("b")
	children := []manifest.Child{
		{Descriptor: ocispec.Descriptor{Digest: a, Size: 482}, Platform: "linux/amd64"},
		{Descriptor: ocispec.Descriptor{Digest: b, Size: 9}},
	}
	var out bytes.Buffer
	if err := PrintIndex(&out, children); err != nil {
		t.Fatal(err)
	}
	want := "PLATFORM     DIGEST" + strings.Repeat(" ", 67) + "SIZE\n" +
		"linux/amd64  " + a.String() + "  482\n" +
		"-            " + b.String() + "  9\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", out.String(), want)
	}
}
