package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
)

// Record is what one build of a Dockerfile did, step by step. minibuild
// keeps the last successful build's record per Dockerfile and target, to
// explain why a step of the next build missed.
type Record struct {
	Dockerfile string       `json:"dockerfile"` // absolute path
	Target     string       `json:"target"`
	Mode       string       `json:"mode"` // cache mode: cascade or content
	Steps      []StepRecord `json:"steps"`
}

// StepRecord is one step of a Record: what went into its key.
type StepRecord struct {
	Stage       string            `json:"stage"`
	Position    int               `json:"position"` // 0 is the stage's FROM, 1 its first instruction...
	Index       int               `json:"index"`
	Line        int               `json:"line"`
	Text        string            `json:"text"`        // the instruction as written
	Instruction string            `json:"instruction"` // after expansion (what the key holds)
	Key         digest.Digest     `json:"key,omitempty"`
	Parent      digest.Digest     `json:"parent,omitempty"`
	Base        digest.Digest     `json:"base,omitempty"` // FROM: the base image's manifest digest
	Vars        map[string]string `json:"vars,omitempty"` // values of the variables the step referenced or sees
	Sources     []SourceFile      `json:"sources,omitempty"`
	Extra       []string          `json:"extra,omitempty"`
	Layer       digest.Digest     `json:"layer,omitempty"`
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
	return filepath.Join(filepath.Dir(c.dir), "records", id+".json"), nil
}

// SaveRecord replaces the record id atomically.
func (c *Cache) SaveRecord(id string, r Record) error {
	path, err := c.recordPath(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// LoadRecord returns the record id. A missing one is (Record{}, false,
// nil); a corrupt one is removed and reported as a *CorruptError with
// found false, so the caller can warn and go on without it.
func (c *Cache) LoadRecord(id string) (Record, bool, error) {
	path, err := c.recordPath(id)
	if err != nil {
		return Record{}, false, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err == nil && len(data) > maxRecord {
		err = errors.New("record too large")
	}
	var r Record
	if err == nil {
		err = json.Unmarshal(data, &r)
	}
	if err != nil {
		_ = os.Remove(path)
		return Record{}, false, &CorruptError{Path: path, Err: err}
	}
	return r, true, nil
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
