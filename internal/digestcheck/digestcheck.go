package digestcheck

import (
	"fmt"

	digest "github.com/opencontainers/go-digest"
)

// Validate accepts only well-formed sha256 digests ("sha256:" and 64
// lowercase hex digits), so that the encoded part can safely become a file
// name. Its error names the digest as given.
//
// A build validates every digest it reads (keys, layers, diffIDs: a
// no-change rebuild of 40 steps checks hundreds), so a well-formed one is
// accepted by a scan of its bytes; go-digest's regular expressions, which
// cost about a microsecond each, only word the error of a bad one.
func Validate(d digest.Digest) error {
	if wellFormed(string(d)) {
		return nil
	}
	return slowValidate(d)
}

// slowValidate is Validate through go-digest's parser: the reference the
// byte scan agrees with, and the wording of the errors.
func slowValidate(d digest.Digest) error {
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

// sha256Prefix starts every digest Validate accepts.
const sha256Prefix = string(digest.SHA256) + ":"

// wellFormed reports whether s is "sha256:" and 64 lowercase hex digits.
func wellFormed(s string) bool {
	if len(s) != len(sha256Prefix)+64 || s[:len(sha256Prefix)] != sha256Prefix {
		return false
	}
	for i := len(sha256Prefix); i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
