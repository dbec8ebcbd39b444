package e2e

import (
	"archive/tar"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

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
// resolved inside the rootfs.
func TestMaliciousBaseLayers(t *testing.T) {
	requireRoot(t)
	sentinel := t.TempDir()
	writeTree(t, sentinel, map[string]string{"victim": "untouched\n"})
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
			layout := filepath.Join(t.TempDir(), "evil")
			layer, diffID := writeLayout(t, layout, tc.hdrs)
			ctx := t.TempDir()
			writeTree(t, ctx, map[string]string{"Dockerfile": "FROM evil\nCOPY f /f\n", "f": "f\n"})
			root := t.TempDir()
			r := mb(t, "build", "--root", root, "--build-context", "evil=oci-layout://"+layout, ctx)
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
