package digestcheck

import (
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestValidate(t *testing.T) {
	hex := strings.Repeat("a", 64)
	tests := []struct {
		name string
		d    digest.Digest
		ok   bool
	}{
		{"sha256", digest.Digest("sha256:" + hex), true},
		{"of bytes", digest.FromString("x"), true},
		{"empty", "", false},
		{"no algorithm", digest.Digest(hex), false},
		{"sha512", digest.Digest("sha512:" + hex + hex), false},
		{"unknown algorithm", digest.Digest("md5:" + hex), false},
		{"short", digest.Digest("sha256:" + hex[:63]), false},
		{"long", digest.Digest("sha256:" + hex + "a"), false},
		{"upper case", digest.Digest("sha256:" + strings.ToUpper(hex)), false},
		{"path", digest.Digest("sha256:../../../etc/passwd"), false},
		{"slash inside", digest.Digest("sha256:" + hex[:32] + "/" + hex[33:]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.d)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%q) = %v, want ok %v", tt.d, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "invalid digest") {
				t.Errorf("error %q does not say the digest is invalid", err)
			}
		})
	}
}
