package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// envMap is the environment of one expansion, built from KEY=VALUE entries
// (later ones winning) and extended in place, so that a long ARG costs
// linear time.
type envMap struct {
	values map[string]string
	keys   []string
}

var _ shell.EnvGetter = (*envMap)(nil)

func newEnvMap(env []string) *envMap {
	e := &envMap{values: make(map[string]string, len(env))}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		e.set(k, v)
	}
	return e
}

// set defines key, replacing an earlier value.
func (e *envMap) set(key, value string) {
	nk := shell.NormalizeEnvKey(key)
	if _, ok := e.values[nk]; !ok {
		e.keys = append(e.keys, key)
	}
	e.values[nk] = value
}

// Get returns the value of key and whether it is set.
func (e *envMap) Get(key string) (string, bool) {
	v, ok := e.values[shell.NormalizeEnvKey(key)]
	return v, ok
}

// Keys returns the defined names in the order first defined.
func (e *envMap) Keys() []string { return e.keys }
