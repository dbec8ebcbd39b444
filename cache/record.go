package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/binenc"
	digest "github.com/opencontainers/go-digest"
)

// Record is what one build of a Dockerfile did, step by step. minibuild
// keeps the last successful build's record per Dockerfile and target, to
// explain why a step of the next build missed.
//
// A record is two files: records/ID.json, small, read at the start of
// every build, and records/ID.sources, the files every COPY/ADD read (tens
// of thousands of entries for a big context), read only when a step missed
// and must be explained (LoadSources). A build that changed nothing
// rewrites neither.
type Record struct {
	Dockerfile string       `json:"dockerfile"` // absolute path
	Target     string       `json:"target"`
	Mode       string       `json:"mode"` // cache mode: cascade or content
	Steps      []StepRecord `json:"steps"`
	// SourcesDigest is the digest of the sources file that holds the
	// steps' Sources; SaveRecord sets it.
	SourcesDigest digest.Digest `json:"sources,omitempty"`
}

// StepRecord is one step of a Record: what went into its key.
type StepRecord struct {
	Stage       string        `json:"stage"`
	Position    int           `json:"position"` // 0 is the stage's FROM, 1 its first instruction...
	Index       int           `json:"index"`
	Line        int           `json:"line"`
	Text        string        `json:"text"`        // the instruction as written
	Instruction string        `json:"instruction"` // after expansion (what the key holds)
	Key         digest.Digest `json:"key,omitempty"`
	Parent      digest.Digest `json:"parent,omitempty"`
	Base        digest.Digest `json:"base,omitempty"` // FROM: the base image's manifest digest
	// Platform is the platform the step's stage builds for ("linux/arm64");
	// empty in records written before it was kept.
	Platform string            `json:"platform,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"` // values of the variables the step referenced or sees
	Sources  []SourceFile      `json:"-"`              // in the sources file: see Record

	Extra []string      `json:"extra,omitempty"`
	Layer digest.Digest `json:"layer,omitempty"`
	// From is, for a COPY --from, the identity of the filesystem it read
	// (it is in Extra too, as the key holds it).
	From digest.Digest `json:"from,omitempty"`
}

// maxRecord bounds a record file read back (a corrupt one is ignored).
const maxRecord = 64 << 20

// RecordID names the record of a Dockerfile (absolute path), target and
// cache mode: each mode keys steps its own way, so each compares with the
// last build made in that mode.
func RecordID(dockerfile, target, mode string) string {
	sum := sha256.Sum256([]byte("record v1\x00" + dockerfile + "\x00" + target + "\x00" + mode))
	return hex.EncodeToString(sum[:16])
}

func (c *Cache) recordPath(id string) (string, error) {
	if len(id) != 32 {
		return "", fmt.Errorf("invalid record id %q", id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("invalid record id %q", id)
	}
	return filepath.Join(c.records, id+".json"), nil
}

// SaveRecord replaces the record id: the sources file first, then the
// JSON file that names its digest, each atomically, and each only when its
// content changed.
func (c *Cache) SaveRecord(id string, r Record) error {
	path, err := c.recordPath(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	old, _ := readLimited(path) // whatever is there now, if readable
	prev := c.summaryOf(id, old)
	sourcesPath := sourcesPathOf(path)
	if prev.SourcesDigest != "" && sameSources(prev.Keys, r.Steps) && exists(sourcesPath) {
		r.SourcesDigest = prev.SourcesDigest
	} else {
		sources := encodeSources(r.Steps)
		r.SourcesDigest = digest.FromBytes(sources)
		if prev.SourcesDigest != r.SourcesDigest || !exists(sourcesPath) {
			if err := atomicfile.WriteFile(sourcesPath, sources, 0o644); err != nil {
				return err
			}
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if bytes.Equal(old, data) {
		return nil
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// recordSummary is what SaveRecord needs of the record it replaces: the
// sources file it names and its steps' keys.
type recordSummary struct {
	SourcesDigest digest.Digest
	Keys          []digest.Digest
}

// loadedRecord is a record file as LoadRecord read it.
type loadedRecord struct {
	id   string
	raw  []byte
	summ recordSummary
}

// summaryOf summarizes the record file content data of id: from the
// record LoadRecord read, when data is what it read (a build compares its
// record with the file it explained its misses from: one decode, not
// two), else by decoding only the fields needed. Content that does not
// decode summarizes as no record.
func (c *Cache) summaryOf(id string, data []byte) recordSummary {
	if l := c.loaded.Load(); l != nil && l.id == id && bytes.Equal(l.raw, data) {
		return l.summ
	}
	var keys struct {
		Steps []struct {
			Key digest.Digest `json:"key"`
		} `json:"steps"`
		SourcesDigest digest.Digest `json:"sources"`
	}
	if json.Unmarshal(data, &keys) != nil {
		return recordSummary{}
	}
	summ := recordSummary{SourcesDigest: keys.SourcesDigest, Keys: make([]digest.Digest, len(keys.Steps))}
	for i, st := range keys.Steps {
		summ.Keys[i] = st.Key
	}
	return summ
}

// summarize is the summary of r.
func summarize(r Record) recordSummary {
	summ := recordSummary{SourcesDigest: r.SourcesDigest, Keys: make([]digest.Digest, len(r.Steps))}
	for i, st := range r.Steps {
		summ.Keys[i] = st.Key
	}
	return summ
}

// LoadRecord returns the record id, without its steps' Sources (see
// LoadSources). A missing one is (Record{}, false, nil); a corrupt one is
// removed and reported as a *CorruptError with found false, so the caller
// can warn and go on without it.
func (c *Cache) LoadRecord(id string) (Record, bool, error) {
	path, err := c.recordPath(id)
	if err != nil {
		return Record{}, false, err
	}
	data, err := readLimited(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	var r Record
	if err == nil {
		err = json.Unmarshal(data, &r)
	}
	if err != nil {
		_ = os.Remove(path)
		return Record{}, false, &CorruptError{Path: path, Err: err}
	}
	c.loaded.Store(&loadedRecord{id: id, raw: data, summ: summarize(r)})
	return r, true, nil
}

// LoadSources fills the Sources of r's steps from the sources file of the
// record id, which must be the one r names. An error (the file missing,
// damaged, or replaced since r was read by a concurrent build of the same
// Dockerfile) leaves every step's Sources nil: the caller cannot tell what
// the steps read.
func (c *Cache) LoadSources(id string, r *Record) error {
	path, err := c.recordPath(id)
	if err != nil {
		return err
	}
	if r.SourcesDigest == "" {
		return errors.New("the record names no sources file")
	}
	path = sourcesPathOf(path)
	data, err := readLimited(path)
	if err != nil {
		return err
	}
	if got := digest.FromBytes(data); got != r.SourcesDigest {
		return &CorruptError{Path: path, Err: fmt.Errorf("digest %s, the record names %s", got, r.SourcesDigest)}
	}
	bySteps, err := decodeSources(data, len(r.Steps))
	if err != nil {
		return &CorruptError{Path: path, Err: err}
	}
	for i, src := range bySteps {
		r.Steps[i].Sources = src
	}
	return nil
}

// sameSources tells, without comparing them, that the steps of a record
// whose keys were prev read the same sources as steps: step by step, the
// same cache key, which hashes every source's path, mode, owner, link and
// digest.
func sameSources(prev []digest.Digest, steps []StepRecord) bool {
	if len(prev) != len(steps) {
		return false
	}
	for i, k := range prev {
		if k != steps[i].Key || (k == "" && len(steps[i].Sources) > 0) {
			return false
		}
	}
	return true
}

// sourcesMagic names the format of a record's sources file.
const sourcesMagic = "minibuild.record-sources.v1"

// encodeSources writes the Sources of the steps that have any, each after
// its step's index.
func encodeSources(steps []StepRecord) []byte {
	e := binenc.NewEncoder(sourcesMagic)
	n := 0
	for _, s := range steps {
		if len(s.Sources) > 0 {
			n++
		}
	}
	e.Uvarint(uint64(n))
	for i, s := range steps {
		if len(s.Sources) == 0 {
			continue
		}
		e.Uvarint(uint64(i))
		e.Uvarint(uint64(len(s.Sources)))
		for _, f := range s.Sources {
			e.String(f.Path)
			e.Uvarint(uint64(f.Mode))
			e.Varint(int64(f.UID))
			e.Varint(int64(f.GID))
			e.String(string(f.Digest))
			e.String(f.Linkname)
		}
	}
	return e.Seal()
}

// decodeSources reads what encodeSources wrote for a record of n steps.
func decodeSources(data []byte, n int) (map[int][]SourceFile, error) {
	d, err := binenc.NewDecoder(data, sourcesMagic)
	if err != nil {
		return nil, err
	}
	out := map[int][]SourceFile{}
	for range d.Count(2) {
		i := d.Uvarint()
		if i >= uint64(n) {
			return nil, fmt.Errorf("sources of step %d in a record of %d steps", i, n)
		}
		files := make([]SourceFile, d.Count(6))
		for j := range files {
			f := &files[j]
			f.Path = d.String()
			f.Mode = uint32(d.Uvarint())
			f.UID, f.GID = int(d.Varint()), int(d.Varint())
			f.Digest = digest.Digest(d.String())
			f.Linkname = d.String()
		}
		out[int(i)] = files
	}
	return out, d.Err()
}

// sourcesPathOf names the sources file of the record file path.
func sourcesPathOf(path string) string { return strings.TrimSuffix(path, ".json") + ".sources" }

// readLimited reads a record file, refusing one over maxRecord bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err == nil && len(data) > maxRecord {
		err = fmt.Errorf("%s: record too large", path)
	}
	return data, err
}

// exists reports whether path can be stat'ed.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Find returns the step of r at position pos of the stage named stage.
func (r Record) Find(stage string, pos int) (StepRecord, bool) {
	for _, s := range r.Steps {
		if s.Stage == stage && s.Position == pos {
			return s, true
		}
	}
	return StepRecord{}, false
}
