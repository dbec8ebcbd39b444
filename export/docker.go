package export

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/distribution/reference"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrDockerIndex is Docker's error for an image index: docker load
// (without Docker's containerd image store) reads manifest.json, which
// gives each image one config, so an archive holds one platform.
var ErrDockerIndex = errors.New("docker load archives hold one platform: use -o type=oci, or build one --platform")

// dockerManifestEntry is one image of a docker save archive's manifest.json.
type dockerManifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// Docker writes the image manifest desc as a tar archive that docker load
// accepts, in the layout Docker 25 itself saves: the blobs under
// blobs/sha256/ (layers as stored, compressed), manifest.json naming the
// config, the layers and the RepoTags, and beside it index.json and
// oci-layout, so the archive is also an OCI image layout. names become
// the RepoTags ("app" -> "app:latest"). The stream is deterministic:
// sorted blobs, mtime 0, owner 0:0. Blobs are verified as they are
// written; blobs only the store's fetcher has are fetched. An image
// index is refused with ErrDockerIndex before anything is written.
func Docker(w io.Writer, s *store.Store, desc ocispec.Descriptor, names []string) error {
	if store.IsIndexType(desc.MediaType) {
		return ErrDockerIndex
	}
	m, _, err := s.Manifest(desc)
	if err != nil {
		return err
	}
	entry := dockerManifestEntry{Config: blobName(m.Config.Digest), RepoTags: []string{}, Layers: []string{}}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	plainDesc := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	for _, n := range names {
		tag, full, err := dockerNames(n)
		if err != nil {
			return err
		}
		entry.RepoTags = append(entry.RepoTags, tag)
		e := plainDesc
		e.Annotations = map[string]string{store.AnnotationContainerdImageName: full, ocispec.AnnotationRefName: refTag(full)}
		idx.Manifests = append(idx.Manifests, e)
	}
	if len(names) == 0 {
		idx.Manifests = append(idx.Manifests, plainDesc)
	}
	blobs := map[digest.Digest]ocispec.Descriptor{desc.Digest: plainDesc, m.Config.Digest: m.Config}
	for _, l := range m.Layers {
		entry.Layers = append(entry.Layers, blobName(l.Digest))
		blobs[l.Digest] = l
	}
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
			return fmt.Errorf("writing docker archive: %w", err)
		}
	}
	for _, d := range sortedDigests(blobs) {
		if err := writeBlob(tw, s, blobs[d], epoch); err != nil {
			return fmt.Errorf("writing docker archive: %w", err)
		}
	}
	indexData, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	manifestData, err := json.Marshal([]dockerManifestEntry{entry})
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageIndexFile, indexData},
		{"manifest.json", manifestData},
		{ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion":"` + ocispec.ImageLayoutVersion + `"}`)},
	}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing docker archive: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("writing docker archive: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing docker archive: %w", err)
	}
	return nil
}

// dockerNames returns the RepoTag Docker shows for name ("app:dev",
// "registry:5000/app:v1") and its fully qualified form
// ("docker.io/library/app:dev").
func dockerNames(name string) (string, string, error) {
	n, err := store.NormalizeName(name)
	if err != nil {
		return "", "", err
	}
	named, err := reference.ParseNormalizedNamed(n)
	if err != nil {
		return "", "", fmt.Errorf("invalid image name %q: %w", name, err)
	}
	named = reference.TagNameOnly(named)
	return reference.FamiliarString(named), named.String(), nil
}

// refTag returns the tag of a fully qualified name:tag.
func refTag(full string) string {
	named, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return ""
	}
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

func blobName(d digest.Digest) string { return "blobs/sha256/" + d.Encoded() }

func sortedDigests(m map[digest.Digest]ocispec.Descriptor) []digest.Digest {
	out := make([]digest.Digest, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// writeBlob streams blob desc, verified, into the archive.
func writeBlob(tw *tar.Writer, s *store.Store, desc ocispec.Descriptor, epoch time.Time) error {
	r, err := s.OpenDescriptor(desc)
	if err != nil {
		return err
	}
	defer r.Close()
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: blobName(desc.Digest), Mode: 0o644, Size: desc.Size, ModTime: epoch}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, r); err != nil {
		return err
	}
	return nil
}
