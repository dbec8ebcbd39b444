package store

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// The docker reference grammar (github.com/distribution/reference).
var (
	pathComponentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	domainRE        = regexp.MustCompile(`^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	tagRE           = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// maxNameLength is the longest repository name (domain and path) allowed.
const maxNameLength = 255

// defaultTag is the tag a name without one gets.
const defaultTag = "latest"

// reference is a parsed image reference.
type reference struct {
	domain string // registry host[:port] as written, or "" when none was given
	path   string // repository path below the domain
	tag    string // "" when none was given
	digest digest.Digest
}

// repo returns the repository name as it was written.
func (r reference) repo() string {
	if r.domain == "" {
		return r.path
	}
	return r.domain + "/" + r.path
}

// parseReference parses [domain/]path[:tag][@digest] by the docker grammar.
// The first component is a domain when it contains "." or ":", is
// "localhost", or has upper-case letters, as Docker decides.
func parseReference(s string) (reference, error) {
	var ref reference
	if s == "" {
		return ref, errors.New("invalid image name: empty")
	}
	rest := s
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		d := digest.Digest(rest[at+1:])
		if err := validateDigest(d); err != nil {
			return ref, fmt.Errorf("invalid image name %q: %w", s, err)
		}
		ref.digest = d
		rest = rest[:at]
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		ref.tag = rest[i+1:]
		rest = rest[:i]
		if !tagRE.MatchString(ref.tag) {
			return ref, fmt.Errorf("invalid image name %q: invalid tag %q", s, ref.tag)
		}
	}
	if len(rest) > maxNameLength {
		return ref, fmt.Errorf("invalid image name %q: repository name longer than %d characters", s, maxNameLength)
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		first := rest[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
			ref.domain = first
			rest = rest[i+1:]
			if !domainRE.MatchString(ref.domain) {
				return ref, fmt.Errorf("invalid image name %q: invalid registry %q", s, ref.domain)
			}
		}
	}
	ref.path = rest
	for _, c := range strings.Split(rest, "/") {
		if !pathComponentRE.MatchString(c) {
			return ref, fmt.Errorf("invalid image name %q: invalid repository component %q (lowercase letters, digits and separators . _ __ - only)", s, c)
		}
	}
	return ref, nil
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
// tag: "app" -> "docker.io/library/app:latest", "localhost:5000/x:1" stays.
func dockerFullName(ref reference) string {
	domain, path := ref.domain, ref.path
	if domain == "" || domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return domain + "/" + path + ":" + tagOrDefault(ref.tag)
}
