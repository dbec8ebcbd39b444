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
// reason of each step, which the image does not hold, and the graph of
// its stages.
type Build struct {
	Manifest digest.Digest
	Mode     builder.CacheMode // "" when unknown
	Steps    []builder.StepResult
	// Graph is the build's stages and what each needed, in build order;
	// nil for a build saved before results kept it.
	Graph []builder.StageNode
	// Images are the platforms' images of a multi-platform build (whose
	// Manifest is the index): Save keeps each one's part (ForPlatform)
	// under its manifest digest, where a report of that image finds it.
	Images []PlatformImage
}

// Of is the Build a finished build made.
func Of(res *builder.Result, mode builder.CacheMode) Build {
	return Build{Manifest: res.Manifest.Digest, Mode: mode, Steps: res.Steps, Graph: res.Graph, Images: platformImages(res)}
}

// formatVersion is the version of the stored file: 1 (a file without a
// version) holds the steps, 2 adds the stage graph. A file of a later
// version is not read: it may mean something this binary cannot tell.
const formatVersion = 2

// file is a Build as stored. Nothing in it depends on scheduling (it
// holds no timings), so a --jobs 1 and a --jobs 4 build write the same.
type file struct {
	Version  int                 `json:"version,omitempty"`
	Manifest digest.Digest       `json:"manifest"`
	Mode     string              `json:"mode,omitempty"`
	Steps    []step              `json:"steps"`
	Graph    []builder.StageNode `json:"graph,omitempty"`
}

type step struct {
	builder.StepJSON
	Layer *ocispec.Descriptor `json:"layer,omitempty"`
}

// Dir is the folder the results are kept in (the root's reports folder).
type Dir string

// Save keeps b under each name of tags and under its manifest digest, so
// that two builds that made one image in different cache modes keep
// their own, and an untagged build can be found; each platform's part of
// a multi-platform build is kept under its image's manifest digest too.
// A file that already holds the same is left as it is.
func (d Dir) Save(b Build, tags []string) error {
	if err := d.write(b, d.paths(tags, b.Manifest)); err != nil {
		return err
	}
	for _, im := range b.Images {
		if p := d.byDigest(im.Manifest); p != "" {
			if err := d.write(b.ForPlatform(im.Platform, im.Manifest), []string{p}); err != nil {
				return err
			}
		}
	}
	return nil
}

// write stores b in each of paths.
func (d Dir) write(b Build, paths []string) error {
	f := file{Version: formatVersion, Manifest: b.Manifest, Mode: string(b.Mode), Graph: b.Graph}
	for _, st := range b.Steps {
		j := st.JSON()
		j.Inputs = nil // a report does not show them; the metadata file has them
		f.Steps = append(f.Steps, step{StepJSON: j, Layer: st.Layer})
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	for _, p := range paths {
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
		if json.Unmarshal(data, &f) != nil || f.Manifest != m || f.Version > formatVersion {
			continue
		}
		b := Build{Manifest: f.Manifest, Mode: builder.CacheMode(f.Mode)}
		for _, st := range f.Steps {
			r := st.Result()
			r.Layer = st.Layer
			b.Steps = append(b.Steps, r)
		}
		if validGraph(f.Graph) {
			b.Graph = f.Graph
		}
		return b, true
	}
	return Build{}, false
}

// validGraph says whether every need of g names a node of g and the
// needs have no cycle, as a build's graph; a damaged graph is dropped, so
// a report never follows one.
func validGraph(g []builder.StageNode) bool {
	waits := make([]int, len(g)) // needs of each node not yet placed
	users := make([][]int, len(g))
	for i, n := range g {
		for _, d := range n.Needs {
			if d < 0 || d >= len(g) {
				return false
			}
			waits[i]++
			users[d] = append(users[d], i)
		}
	}
	var ready []int
	for i, w := range waits {
		if w == 0 {
			ready = append(ready, i)
		}
	}
	placed := 0
	for len(ready) > 0 {
		n := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		placed++
		for _, u := range users[n] {
			if waits[u]--; waits[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return placed == len(g)
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
