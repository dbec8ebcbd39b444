package registry

import (
	"fmt"
	"net"
	"strings"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
)

// Ref is an image reference with Docker's defaults applied: "alpine" is
// Registry "docker.io", Repository "library/alpine", Tag "latest".
type Ref struct {
	// Registry is the registry's host[:port].
	Registry string
	// Repository is the repository path in the registry.
	Repository string
	// Tag is the tag; "" when Digest is set.
	Tag string
	// Digest is the manifest (or index) digest, or "".
	Digest digest.Digest
}

// ParseRef parses an image name by the Docker grammar and normalizes it
// as Docker does ("alpine" -> docker.io/library/alpine:latest). With both
// a tag and a digest, the digest wins and the tag is dropped, as in
// docker pull.
func ParseRef(name string) (Ref, error) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return Ref{}, fmt.Errorf("invalid image name %q: %w", name, err)
	}
	r := Ref{Registry: reference.Domain(named), Repository: reference.Path(named)}
	if r.Registry == "" {
		// distribution/reference reads "my_host.com/app" as a path with no
		// domain, where Docker sees a host it cannot reach.
		return Ref{}, fmt.Errorf("invalid image name %q: no registry host in it", name)
	}
	if c, ok := named.(reference.Canonical); ok {
		if c.Digest().Algorithm() != digest.SHA256 {
			return Ref{}, fmt.Errorf("invalid image name %q: only sha256 digests are supported", name)
		}
		r.Digest = c.Digest()
		return r, nil
	}
	r.Tag = "latest"
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	return r, nil
}

// Reference is what the registry API names: the digest, else the tag.
func (r Ref) Reference() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// Name is the repository's full name, registry/repository.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// String returns the full reference: registry/repository:tag or
// registry/repository@digest.
func (r Ref) String() string {
	if r.Digest != "" {
		return r.Name() + "@" + r.Digest.String()
	}
	return r.Name() + ":" + r.Tag
}

// isLoopback reports whether host[:port] names this machine: "localhost"
// or a loopback IP address. Docker reaches such registries over plain HTTP.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
