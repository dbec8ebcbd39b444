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

// TestWellFormedAgreesWithGoDigest: the byte scan accepts exactly what
// go-digest's parser accepts as sha256, on valid digests and on every
// one-byte change of one.
func TestWellFormedAgreesWithGoDigest(t *testing.T) {
	base := string(digest.FromString("x"))
	inputs := []string{"", "sha256:", base, base + "0", base[:len(base)-1], "SHA256" + base[6:], "sha512" + base[6:]}
	for i := range base {
		for _, c := range []byte{'0', '9', 'a', 'f', 'g', 'A', 'F', ':', '/', '.', '+', 0, 0xff} {
			b := []byte(base)
			b[i] = c
			inputs = append(inputs, string(b))
		}
	}
	for _, in := range inputs {
		fast, slow := wellFormed(in), slowValidate(digest.Digest(in)) == nil
		if fast != slow {
			t.Errorf("%q: byte scan says %v, go-digest says %v", in, fast, slow)
		}
	}
}
