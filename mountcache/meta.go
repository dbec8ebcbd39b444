package mountcache

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/minibuild/minibuild/internal/atomicfile"
)

// meta is an instance's meta.json.
type meta struct {
	// ID is the cache id; when it is not valid UTF-8, which JSON cannot
	// hold, IDBase64 holds its bytes and ID a readable rendering.
	ID       string    `json:"id"`
	IDBase64 string    `json:"idBase64,omitempty"`
	Instance int       `json:"instance"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"lastUsed"`
}

// newMeta is the metadata of instance n of id, made at t.
func newMeta(id string, n int, t time.Time) meta {
	m := meta{ID: id, Instance: n, Created: t, LastUsed: t}
	if !utf8.ValidString(id) {
		m.ID = fmt.Sprintf("%q", id)
		m.IDBase64 = base64.StdEncoding.EncodeToString([]byte(id))
	}
	return m
}

// id is the cache id m records.
func (m meta) id() (string, error) {
	if m.IDBase64 == "" {
		return m.ID, nil
	}
	b, err := base64.StdEncoding.DecodeString(m.IDBase64)
	if err != nil {
		return "", fmt.Errorf("idBase64: %w", err)
	}
	return string(b), nil
}

// write replaces the meta.json of the instance folder dir.
func (m meta) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, metaName), append(b, '\n'), lockPerm)
}

// readMeta reads the meta.json of the instance folder dir.
func readMeta(dir string) (meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("reading %s: %w", filepath.Join(dir, metaName), err)
	}
	return m, nil
}

// touch sets the last-used time of instance n of id, in the folder dir,
// to t; metadata that cannot be read is written anew.
func touch(dir, id string, n int, t time.Time) error {
	m, err := readMeta(dir)
	if mid, idErr := m.id(); err != nil || idErr != nil || mid != id || m.Instance != n {
		m = newMeta(id, n, t)
	}
	m.LastUsed = t
	return m.write(dir)
}
