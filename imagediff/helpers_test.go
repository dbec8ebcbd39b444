package imagediff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ent is one tar entry of a test layer. A zero typ is a regular file;
// mode 0 means 0644 (0755 for a directory, 0777 for a symbolic link).
type ent struct {
	name         string
	typ          byte
	mode         int64
	uid, gid     int
	body         string
	link         string
	mtime        int64
	xattrs       map[string]string
	major, minor int64
}

// file, dir, symlink, hardlink and whiteout abbreviate entries.
func file(name, body string) ent  { return ent{name: name, body: body} }
func dir(name string) ent         { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, to string) ent { return ent{name: name, typ: tar.TypeSymlink, link: to} }
func hardlink(name, to string) ent {
	return ent{name: name, typ: tar.TypeLink, link: to}
}

// layerTar writes ents, in order, as an uncompressed tar.
func layerTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.link, ModTime: time.Unix(e.mtime, 0), Devmajor: e.major, Devminor: e.minor, Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			switch hdr.Typeflag {
			case tar.TypeDir:
				hdr.Mode = 0o755
			case tar.TypeSymlink:
				hdr.Mode = 0o777
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		for k, v := range e.xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// memBlobs is a Blobs of blobs held in memory.
type memBlobs map[digest.Digest][]byte

func (m memBlobs) Open(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	data, ok := m[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: not found", desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// testImage makes an image of cfg whose layers are the uncompressed tars
// given, every other one gzipped, with one history entry per layer.
func testImage(t testing.TB, name string, cfg builder.Image, layers ...[]byte) Image {
	t.Helper()
	blobs := memBlobs{}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	cfg.RootFS = ocispec.RootFS{Type: "layers"}
	if cfg.OS == "" {
		cfg.OS, cfg.Architecture = "linux", "amd64"
	}
	addHistory := len(cfg.History) == 0
	for i, l := range layers {
		blob, mt := l, ocispec.MediaTypeImageLayer
		if i%2 == 1 {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(l)
			zw.Close()
			blob, mt = buf.Bytes(), ocispec.MediaTypeImageLayerGzip
		}
		d := digest.FromBytes(blob)
		blobs[d] = blob
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(blob))})
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(l))
		if addHistory {
			cfg.History = append(cfg.History, ocispec.History{CreatedBy: fmt.Sprintf("layer %d", i)})
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	mraw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(mraw), Size: int64(len(mraw))}
	return Image{Name: name, Descriptor: desc, Manifest: m, Config: cfg, RawConfig: raw, Blobs: blobs}
}

// describe lists every path of t, sorted, as "PATH TYPE MODE UID:GID"
// and, by type, the size and content, the link target or the hardlink.
func describe(t *tree) []string {
	var out []string
	var walk func(p string, n *node)
	walk = func(p string, n *node) {
		for name, c := range n.children {
			cp := p + "/" + name
			s := fmt.Sprintf("%s %s %s %d:%d", cp, c.Type, c.Mode, c.UID, c.GID)
			switch {
			case c.Hardlink != "":
				s += " =" + c.Hardlink
			case c.Type == TypeFile:
				s += fmt.Sprintf(" %d", c.Size)
			case c.Type == TypeSymlink:
				s += " ->" + c.Link
			}
			if c.Implied {
				s += " implied"
			}
			out = append(out, s)
			walk(cp, c)
		}
	}
	walk("", t.root)
	sort.Strings(out)
	return out
}

// changeLines lists fcs as "KIND PATH [ATTR,...]".
func changeLines(fcs []FileChange) []string {
	out := []string{}
	for _, fc := range fcs {
		s := string(fc.Kind) + " " + fc.Path
		if len(fc.Changes) > 0 {
			s += " " + strings.Join(fc.Changes, ",")
		}
		out = append(out, s)
	}
	return out
}
