package store

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
)

// defaultTag is the tag a name without one gets.
const defaultTag = "latest"

// imageRef is an image reference parsed by the docker grammar
// (github.com/distribution/reference), kept as written.
type imageRef struct {
	name   string // [domain/]path as written: no "docker.io/" or "library/" added
	tag    string // "" when none was given
	digest digest.Digest
}

// repo returns the repository name as it was written.
func (r imageRef) repo() string { return r.name }

// parseReference parses [domain/]path[:tag][@digest] by the docker grammar
// (reference.Parse). The whole name, domain included, is at most 255
// characters, a first component Docker reads as a registry must be one
// (see checkRegistry), and a digest must be a valid sha256 one.
func parseReference(s string) (imageRef, error) {
	parsed, err := reference.Parse(s)
	if err != nil {
		return imageRef{}, fmt.Errorf("invalid image name %q: %w", s, err)
	}
	named, ok := parsed.(reference.Named)
	if !ok {
		return imageRef{}, fmt.Errorf("invalid image name %q: no repository name", s)
	}
	ref := imageRef{name: named.Name()}
	if len(ref.name) > reference.RepositoryNameTotalLengthMax {
		return imageRef{}, fmt.Errorf("invalid image name %q: %w", s, reference.ErrNameTooLong)
	}
	if err := checkRegistry(ref.name); err != nil {
		return imageRef{}, fmt.Errorf("invalid image name %q: %w", s, err)
	}
	if t, ok := named.(reference.Tagged); ok {
		ref.tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		if err := digestcheck.Validate(d.Digest()); err != nil {
			return imageRef{}, fmt.Errorf("invalid image name %q: %w", s, err)
		}
		ref.digest = d.Digest()
	}
	return ref, nil
}

// checkRegistry refuses a name that reference.Parse and Docker's reading
// (reference.ParseNormalizedNamed) split differently at its first
// component. Docker takes a first component with "." or ":", "localhost"
// or upper case for a registry, and then it must be a valid host[:port]
// ("my_host.com/app" is refused, where Parse would read a path); anything
// else is a repository path component ("[ab]/app" is refused, where Parse
// would read an IPv6 host).
func checkRegistry(name string) error {
	first, _, ok := strings.Cut(name, "/")
	if !ok {
		return nil // a single component is never a registry
	}
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil || reference.Domain(named) == "" {
		return fmt.Errorf("invalid registry or repository component %q", first)
	}
	return nil
}

// NormalizeName validates an image tag reference by the docker grammar and
// returns it as name:tag, adding ":latest" when no tag is given ("app" ->
// "app:latest"). The name is otherwise kept as written: no "docker.io/"
// or "library/" is added. Digest references are refused; Resolve accepts
// them.
func NormalizeName(name string) (string, error) {
	ref, err := parseReference(name)
	if err != nil {
		return "", err
	}
	if ref.digest != "" {
		return "", fmt.Errorf("invalid image name %q: a digest reference cannot name a tag", name)
	}
	return ref.repo() + ":" + tagOrDefault(ref.tag), nil
}

func tagOrDefault(tag string) string {
	if tag == "" {
		return defaultTag
	}
	return tag
}

// dockerFullName returns Docker's fully qualified form of ref's name and
// tag (reference.ParseNormalizedNamed, then TagNameOnly): "app" ->
// "docker.io/library/app:latest", "localhost:5000/x:1" stays. A digest is
// left out. It fails for the few names Docker cannot qualify: 64 hex
// digits, which Docker takes for an image ID, and names over 255
// characters once "library/" is added.
func dockerFullName(ref imageRef) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref.name)
	if err != nil {
		return "", fmt.Errorf("invalid image name %q: %w", ref.name, err)
	}
	if ref.tag != "" {
		if named, err = reference.WithTag(named, ref.tag); err != nil {
			return "", fmt.Errorf("invalid image name %q: %w", ref.name, err)
		}
	}
	return reference.TagNameOnly(named).String(), nil
}
