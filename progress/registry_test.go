package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestRegistryEvents pins what pulls, pushes and the remote cache print
// in plain and JSON progress; quiet prints nothing.
func TestRegistryEvents(t *testing.T) {
	d := digest.Digest("sha256:" + strings.Repeat("ab", 32))
	layer := registry.Progress{Status: registry.StatusPushed, Kind: registry.KindLayer, Descriptor: ocispec.Descriptor{Digest: d, Size: 2048}}
	config := registry.Progress{Status: registry.StatusPushed, Kind: registry.KindConfig, Descriptor: ocispec.Descriptor{Digest: d, Size: 10}}
	down := registry.Progress{Status: registry.StatusDownloaded, Kind: registry.KindLayer, Descriptor: ocispec.Descriptor{Digest: d, Size: 3 << 20}}
	for _, tc := range []struct {
		name        string
		event       any
		plain, json string
	}{
		{"note", session.Note{Op: session.OpPush, Name: "r/a:1", Text: "pushing r/a:1"},
			"pushing r/a:1\n", `{"event":"push","name":"r/a:1","message":"pushing r/a:1"}` + "\n"},
		{"a layer pushed", session.Transfer{Op: session.OpPush, Name: "r/a:1", Progress: layer},
			"  sha256:abababababab: pushed (2.0 KiB)\n",
			`{"event":"push","name":"r/a:1","digest":"` + d.String() + `","kind":"layer","status":"pushed","size":2048}` + "\n"},
		{"a config pushed is not shown", session.Transfer{Op: session.OpPush, Name: "r/a:1", Progress: config}, "", ""},
		{"a cache layer needed now", session.CacheDownload{Progress: down},
			"cache: downloaded layer sha256:abababababab (3.0 MiB), needed now\n",
			`{"event":"cache","digest":"` + d.String() + `","kind":"layer","status":"downloaded","size":3145728}` + "\n"},
		{"pulled", session.Done{Op: session.OpPull, Name: "alpine", Manifest: ocispec.Descriptor{Digest: d}},
			"pulled alpine: " + d.String() + "\n",
			`{"event":"pull","name":"alpine","digest":"` + d.String() + `","kind":"manifest","status":"done"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []struct {
				mode Mode
				want string
			}{{Plain, tc.plain}, {JSON, tc.json}, {Quiet, ""}} {
				var out bytes.Buffer
				r := New(m.mode, &out)
				r.Report(tc.event.(interface{ BuildEvent() }))
				if out.String() != m.want {
					t.Errorf("%s:\n got %q\nwant %q", m.mode, out.String(), m.want)
				}
			}
		})
	}
}
