package builder

import (
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
)

// CacheMode is how a step's key chains on the steps before it.
type CacheMode string

// Cache modes.
const (
	// ModeCascade is Docker's classic rule: a step's parent is the key of
	// the step before it, so a miss invalidates every later step.
	ModeCascade CacheMode = "cascade"
	// ModeContent cuts the cascade early: a step's parent is the content
	// the steps before it left (layers, environment, working directory,
	// user, shell), so a rebuilt step that changed nothing lets the next
	// steps hit again.
	ModeContent CacheMode = "content"
)

// ParseCacheMode checks a cache mode's name; "" is ModeCascade.
func ParseCacheMode(s string) (CacheMode, error) {
	switch m := CacheMode(s); m {
	case "":
		return ModeCascade, nil
	case ModeCascade, ModeContent:
		return m, nil
	}
	return "", fmt.Errorf("invalid cache mode %q: want cascade or content", s)
}

// parentKey is what the next step's key chains on.
func (b *build) parentKey(s *stage) digest.Digest {
	if b.set.CacheMode != ModeContent {
		return s.key
	}
	c := s.img.Config
	state, _ := json.Marshal(struct {
		Layers     []digest.Digest
		Env        []string
		WorkingDir string
		User       string
		Shell      []string
	}{s.img.RootFS.DiffIDs, c.Env, c.WorkingDir, c.User, c.Shell})
	return digest.FromBytes(append([]byte("minibuild content state v1\n"), state...))
}
