package textfmt

import (
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 2 << 40: "2.0 TiB", 5000 << 40: "5000.0 TiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDigests(t *testing.T) {
	d := digest.Digest("sha256:" + strings.Repeat("ab", 32))
	for _, tc := range []struct {
		name, got, want string
	}{
		{"short digest", ShortDigest(d), "sha256:abababababab"},
		{"short of a short string", ShortDigest("sha256:ab"), "sha256:ab"},
		{"short of nothing", ShortDigest(""), ""},
		{"id", ShortID(d), "abababababab"},
		{"id of an invalid digest", ShortID("sha256:zz"), "sha256:zz"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
	}{
		{"cut keeps a short text", Cut("abc", 3), "abc"},
		{"cut", Cut("abcdef", 4), "abc…"},
		{"cut runes, not bytes", Cut("ääää", 3), "ää…"},
		{"cut to nothing", Cut("abc", 0), ""},
		{"clip flattens", Clip("RUN a \\\n\t  b", 20), "RUN a \\ b"},
		{"clip cuts", Clip("one two three", 8), "one two…"},
		{"one line keeps spaces", OneLine("a\n  b\n"), "a   b "},
		{"printable as it is", Printable("/root/.cache/go build ü"), "/root/.cache/go build ü"},
		{"printable quotes control bytes", Printable("a\nb\x00"), `"a\nb\x00"`},
		{"printable quotes invalid UTF-8", Printable("\xff"), `"\xff"`},
		{"printable quotes nothing", Printable(""), `""`},
		{"plural one", Plural(1, "step"), "1 step"},
		{"plural many", Plural(0, "step"), "0 steps"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"512", 512, false},
		{"10GB", 10 << 30, false},
		{"1.5GiB", 3 << 29, false},
		{"512m", 512 << 20, false},
		{" 2 k ", 2 << 10, false},
		{"1t", 1 << 40, false},
		{"-1", 0, true},
		{"ten", 0, true},
		{"", 0, true},
		{"5000000000t", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
