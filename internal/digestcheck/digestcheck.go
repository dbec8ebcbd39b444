package digestcheck

import (
	"fmt"

	digest "github.com/opencontainers/go-digest"
)

// Validate accepts only well-formed sha256 digests ("sha256:" and 64
// lowercase hex digits), so that the encoded part can safely become a file
// name. Its error names the digest as given.
func Validate(d digest.Digest) error {
	parsed, err := digest.Parse(string(d))
	if err != nil {
		return fmt.Errorf("invalid digest %q: %w", string(d), err)
	}
	if parsed.Algorithm() != digest.SHA256 {
		return fmt.Errorf("invalid digest %q: only sha256 is supported", string(d))
	}
	if err := parsed.Validate(); err != nil {
		return fmt.Errorf("invalid digest %q: %w", string(d), err)
	}
	return nil
}
