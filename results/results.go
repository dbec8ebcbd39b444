package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/digestcheck"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Build is what a build leaves for a later report: the cache result and
// reason of each step, which the image does not hold.
type Build struct {
	Manifest digest.Digest
	Mode     builder.CacheMode // "" when unknown
	Steps    []builder.StepResult
}

// Of is the Build a finished build made.
func Of(res *builder.Result, mode builder.CacheMode) Build {
	return Build{Manifest: res.Manifest.Digest, Mode: mode, Steps: res.Steps}
}

// file is a Build as stored.
type file struct {
	Manifest digest.Digest `json:"manifest"`
	Mode     string        `json:"mode,omitempty"`
	Steps    []step        `json:"steps"`
}

type step struct {
	builder.StepJSON
	Layer *ocispec.Descriptor `json:"layer,omitempty"`
}

// Dir is the folder the results are kept in (the root's reports folder).
type Dir string

// Save keeps b under each name of tags and under its manifest digest, so
// that two builds that made one image in different cache modes keep
// their own, and an untagged build can be found. A file that already
// holds the same is left as it is.
func (d Dir) Save(b Build, tags []string) error {
	f := file{Manifest: b.Manifest, Mode: string(b.Mode)}
	for _, st := range b.Steps {
		j := st.JSON()
		j.Inputs = nil // a report does not show them; the metadata file has them
		f.Steps = append(f.Steps, step{StepJSON: j, Layer: st.Layer})
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	for _, p := range d.paths(tags, b.Manifest) {
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			continue // a rebuild that changed nothing: no write, no fsync
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		// Not synced: Load skips a file a power loss leaves empty or
		// stale (the report then says the results are unknown), and
		// the four fsyncs cost the first rebuild after a change more
		// than the rest of its bookkeeping.
		if err := atomicfile.WriteFileSynced(p, data, 0o644, atomicfile.SyncNone); err != nil {
			return err
		}
	}
	return nil
}

// Load finds the results kept for image name, whose manifest is m; ok is
// false when there are none (or none of that manifest).
func (d Dir) Load(name string, m digest.Digest) (Build, bool) {
	for _, p := range []string{d.byName(name), d.byDigest(m)} {
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var f file
		if json.Unmarshal(data, &f) != nil || f.Manifest != m {
			continue
		}
		b := Build{Manifest: f.Manifest, Mode: builder.CacheMode(f.Mode)}
		for _, st := range f.Steps {
			r := st.Result()
			r.Layer = st.Layer
			b.Steps = append(b.Steps, r)
		}
		return b, true
	}
	return Build{}, false
}

// paths are where a build's results go: one file per tag, and one per
// manifest.
func (d Dir) paths(tags []string, m digest.Digest) []string {
	var out []string
	for _, t := range tags {
		out = append(out, d.byName(t))
	}
	if p := d.byDigest(m); p != "" {
		out = append(out, p)
	}
	return out
}

func (d Dir) byName(name string) string {
	if n, err := store.NormalizeName(name); err == nil {
		name = n
	}
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(string(d), "by-name", hex.EncodeToString(sum[:16])+".json")
}

// byDigest is the file of manifest m, or "" for an invalid digest.
func (d Dir) byDigest(m digest.Digest) string {
	if digestcheck.Validate(m) != nil {
		return ""
	}
	return filepath.Join(string(d), "by-digest", m.Encoded()+".json")
}
