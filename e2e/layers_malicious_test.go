package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// writeLayersLayout writes an OCI layout at dir holding one image made of
// the given layers, bottom first (each regular file's content is its
// name), and returns the layers' blob digests and diffIDs.
func writeLayersLayout(t *testing.T, dir string, layers ...[]*tar.Header) []digest.Digest {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(mt string, data []byte) ocispec.Descriptor {
		d := digest.FromBytes(data)
		if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}
	}
	img := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	var digests []digest.Digest
	for _, hdrs := range layers {
		var raw bytes.Buffer
		tw := tar.NewWriter(&raw)
		for _, h := range hdrs {
			h := *h
			body := []byte(h.Name)
			if h.Typeflag == tar.TypeReg {
				h.Size = int64(len(body))
			}
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
			if h.Typeflag == tar.TypeReg {
				if _, err := tw.Write(body); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw.Bytes())
		zw.Close()
		l := put(ocispec.MediaTypeImageLayerGzip, gz.Bytes())
		m.Layers = append(m.Layers, l)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digest.FromBytes(raw.Bytes()))
		digests = append(digests, l.Digest, digest.FromBytes(raw.Bytes()))
	}
	cfg, _ := json.Marshal(img)
	m.Config = put(ocispec.MediaTypeImageConfig, cfg)
	mb, _ := json.Marshal(m)
	md := put(ocispec.MediaTypeImageManifest, mb)
	idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{md}})
	writeTree(t, dir, map[string]string{"index.json": string(idx), "oci-layout": `{"imageLayoutVersion":"1.0.0"}`})
	return digests
}

// TestMaliciousLayers feeds base images whose layers attack the
// extraction (the CVE classes of docker cp, umoci, containerd) through the
// whole binary, with both snapshotters, as root and rootless: a layer that
// would write outside is refused naming the layer and the entry; links
// that only look hostile resolve inside the rootfs and are kept as
// written. Either way the sentinel beside the store (rootless, one the
// user could write to) never changes, nothing stays mounted, and the store
// verifies clean.
func TestMaliciousLayers(t *testing.T) {
	requireRoot(t)
	for _, rn := range runners(t) {
		t.Run(rn.name, func(t *testing.T) { testMaliciousLayers(t, rn) })
	}
}

func testMaliciousLayers(t *testing.T, rn runner) {
	sentinel, unchanged := sentinelFor(t, rn)
	climb := strings.Repeat("../", 20) + strings.TrimPrefix(sentinel, "/")
	dir := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755} }
	file := func(name string, mode int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode}
	}
	link := func(name, target string, kind byte) *tar.Header {
		return &tar.Header{Name: name, Typeflag: kind, Linkname: target, Mode: 0o777}
	}
	cases := []struct {
		name    string
		layers  [][]*tar.Header
		refused string            // entry the error names; "" when the image is accepted
		want    map[string]string // for accepted images: rootfs paths and their description
	}{
		{name: "dot-dot name", layers: [][]*tar.Header{{file("../x", 0o644)}}, refused: "../x"},
		{name: "absolute dot-dot name", layers: [][]*tar.Header{{file("/../x", 0o644)}}, refused: "/../x"},
		{name: "symlink to / then a file through it", layers: [][]*tar.Header{{link("foo", "/", tar.TypeSymlink), file("foo/x", 0o644)}},
			want: map[string]string{"foo": "Lrwxrwxrwx 0:0 -> /", "x": "-rw-r--r-- 0:0 foo/x"}},
		{name: "go_up chain", layers: [][]*tar.Header{{link("go_up", "..", tar.TypeSymlink), file("go_up/go_up/go_up/x", 0o644)}},
			want: map[string]string{"go_up": "Lrwxrwxrwx 0:0 -> ..", "x": "-rw-r--r-- 0:0 go_up/go_up/go_up/x"}},
		{name: "go_up chain across layers", layers: [][]*tar.Header{{link("go_up", "..", tar.TypeSymlink)}, {file("go_up/go_up/x", 0o644)}},
			want: map[string]string{"x": "-rw-r--r-- 0:0 go_up/go_up/x"}},
		{name: "hardlink to outside", layers: [][]*tar.Header{{link("h", climb+"/secret", tar.TypeLink)}}, refused: "h"},
		{name: "hardlink through a symlinked parent", layers: [][]*tar.Header{{link("l", sentinel, tar.TypeSymlink), link("h", "l/secret", tar.TypeLink)}}, refused: "h"},
		{name: "hardlink to a symlink then chmod through it", layers: [][]*tar.Header{
			{link("s", sentinel+"/secret", tar.TypeSymlink), link("h", "s", tar.TypeLink)},
			{file("h", 0o777)}},
			want: map[string]string{"s": "Lrwxrwxrwx 0:0 -> " + sentinel + "/secret", "h": "-rwxrwxrwx 0:0 h"}},
		{name: "invalid whiteout", layers: [][]*tar.Header{{dir("d"), file("d/.wh..", 0o644)}}, refused: "d/.wh.."},
		{name: "root turned into a symlink", layers: [][]*tar.Header{{link(".", "/", tar.TypeSymlink)}}, refused: "."},
		{name: "root turned into a file", layers: [][]*tar.Header{{file("/.", 0o644)}}, refused: "/."},
		{name: "file over an existing symlink", layers: [][]*tar.Header{
			{link("f", sentinel+"/secret", tar.TypeSymlink)},
			{file("f", 0o644)}},
			want: map[string]string{"f": "-rw-r--r-- 0:0 f"}},
		{name: "directory over a symlink to outside", layers: [][]*tar.Header{
			{link("d", climb, tar.TypeSymlink)},
			{dir("d"), file("d/secret", 0o644)}},
			want: map[string]string{"d/secret": "-rw-r--r-- 0:0 d/secret"}},
		{name: "whiteout through a symlink to outside", layers: [][]*tar.Header{
			{link("l", climb, tar.TypeSymlink)},
			{file("l/.wh.secret", 0o644)}},
			want: map[string]string{"l": "Lrwxrwxrwx 0:0 -> " + climb}},
	}
	for _, snap := range []string{"overlay", "native"} {
		for _, tc := range cases {
			t.Run(snap+"/"+tc.name, func(t *testing.T) {
				defer unchanged(t)
				layout := filepath.Join(rn.dir(t), "evil")
				layers := writeLayersLayout(t, layout, tc.layers...)
				ctx := rn.dir(t)
				writeTree(t, ctx, map[string]string{"Dockerfile": "FROM evil\nCOPY f /copied\n", "f": "f\n"})
				root, dest := rn.dir(t), filepath.Join(rn.dir(t), "rootfs")
				r := rn.run(t, time.Minute, "build", "--root", root, "--snapshotter", snap,
					"--build-context", "evil=oci-layout://"+layout, "-o", "type=local,dest="+dest, ctx)
				if m := mountsUnder(t, root); len(m) > 0 {
					t.Errorf("mounts left: %v", m)
				}
				if tc.refused != "" {
					if r.code == 0 {
						t.Fatal("a malicious layer was accepted")
					}
					if !strings.Contains(r.stderr, `"`+tc.refused+`"`) || !namesOne(r.stderr, layers) {
						t.Errorf("the error does not name the entry %q and its layer:\n%s", tc.refused, r.stderr)
					}
					rn.verifyClean(t, root)
					return
				}
				if r.code != 0 {
					t.Fatalf("a contained image was refused:\n%s", r.stderr)
				}
				tree := describeTree(t, dest)
				for p, want := range tc.want {
					if want = rn.hostDesc(want); tree[p] != want {
						t.Errorf("rootfs %s = %q, want %q", p, tree[p], want)
					}
				}
				rn.verifyClean(t, root)
			})
		}
	}
}

// namesOne reports whether s names one of the digests: a layer is named
// by its blob digest or its diffID.
func namesOne(s string, ds []digest.Digest) bool {
	for _, d := range ds {
		if strings.Contains(s, d.String()) {
			return true
		}
	}
	return false
}

// writeLayout writes an OCI layout at dir holding one image whose single
// layer is the tar made of hdrs (see writeLayersLayout), and returns the
// layer's blob digest and diffID.
func writeLayout(t *testing.T, dir string, hdrs []*tar.Header) (blob, diffID digest.Digest) {
	t.Helper()
	d := writeLayersLayout(t, dir, hdrs)
	return d[0], d[1]
}

// TestMaliciousBaseLayers: a base image whose layer tries to write outside
// its unpack directory is refused with an error naming the layer and the
// entry, and nothing changes outside; links that only look hostile are
// resolved inside the rootfs. As root and rootless.
func TestMaliciousBaseLayers(t *testing.T) {
	requireRoot(t)
	for _, rn := range runners(t) {
		t.Run(rn.name, func(t *testing.T) { testMaliciousBaseLayers(t, rn) })
	}
}

func testMaliciousBaseLayers(t *testing.T, rn runner) {
	sentinel := rn.dir(t)
	writeTree(t, sentinel, map[string]string{"victim": "untouched\n"})
	rn.own(t, sentinel)
	climb := strings.Repeat("../", 30) + strings.TrimPrefix(sentinel, "/")
	dir := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}
	}
	file := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}
	}
	link := func(name, target string, kind byte) *tar.Header {
		return &tar.Header{Name: name, Typeflag: kind, Linkname: target, Mode: 0o777}
	}
	// inside makes the sentinel's path exist inside the rootfs too, so a
	// link to it, resolved with chroot semantics, has somewhere to land.
	var inside []*tar.Header
	for p := strings.TrimPrefix(sentinel, "/"); p != "."; p = filepath.Dir(p) {
		inside = append([]*tar.Header{dir(p)}, inside...)
	}
	cases := []struct {
		name    string
		hdrs    []*tar.Header
		refused string // the entry the error names; "" = contained, build succeeds
	}{
		{"dot-dot name", []*tar.Header{file(climb + "/escaped")}, climb + "/escaped"},
		{"hardlink to outside", []*tar.Header{link("hl", climb+"/victim", tar.TypeLink)}, "hl"},
		{"invalid whiteout", []*tar.Header{dir("d"), file("d/.wh..")}, ".wh.."},
		{"root turned into a file", []*tar.Header{file(".")}, "."},
		{"duplicate entry", []*tar.Header{file("a"), file("a")}, "a"},
		{"hardlink to a symlink then a file over it", []*tar.Header{link("s", sentinel+"/victim", tar.TypeSymlink), link("h", "s", tar.TypeLink), file("h")}, "h"},
		{"symlink to a missing host path then write through it", []*tar.Header{link("evil", sentinel, tar.TypeSymlink), file("evil/pwned")}, "evil/pwned"},
		{"absolute symlink then write: lands inside", append(inside, link("evil", sentinel, tar.TypeSymlink), file("evil/pwned")), ""},
		{"climbing symlink then write: lands inside", append(inside, link("up", climb, tar.TypeSymlink), file("up/pwned2")), ""},
	}
	before := describeTree(t, sentinel)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			layout := filepath.Join(rn.dir(t), "evil")
			layer, diffID := writeLayout(t, layout, tc.hdrs)
			ctx := rn.dir(t)
			writeTree(t, ctx, map[string]string{"Dockerfile": "FROM evil\nCOPY f /f\n", "f": "f\n"})
			root := rn.dir(t)
			r := rn.run(t, time.Minute, "build", "--root", root, "--build-context", "evil=oci-layout://"+layout, ctx)
			if tc.refused != "" {
				if r.code == 0 {
					t.Fatalf("a malicious layer was accepted")
				}
				named := strings.Contains(r.stderr, layer.String()) || strings.Contains(r.stderr, diffID.String())
				if !named || !strings.Contains(r.stderr, `"`+tc.refused+`"`) {
					t.Errorf("error does not name layer %s and entry %q:\n%s", layer, tc.refused, r.stderr)
				}
			} else if r.code != 0 {
				t.Fatalf("a contained layer was refused:\n%s", r.stderr)
			}
			if d := diffTrees(before, describeTree(t, sentinel)); d != "" {
				t.Fatalf("the host outside the rootfs changed:\n%s", d)
			}
			if m := mountsUnder(t, root); len(m) > 0 {
				t.Errorf("mounts left behind: %v", m)
			}
		})
	}
}
