package cache

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllInto: what the reader holds is read whole, into the buffer
// given when it fits and past its capacity when it does not; an error
// other than EOF is returned.
func TestReadAllInto(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		capa    int
		want    string
		wantErr error
	}{
		{"empty", strings.NewReader(""), 1, "", nil},
		{"fits", strings.NewReader("hello"), 6, "hello", nil},
		{"fills it exactly", strings.NewReader("hello"), 5, "hello", nil},
		{"grew since", strings.NewReader(strings.Repeat("x", 3000)), 10, strings.Repeat("x", 3000), nil},
		{"no capacity", strings.NewReader("abc"), 0, "abc", nil},
		{"a byte at a time", iotest.OneByteReader(strings.NewReader("slow")), 2, "slow", nil},
		{"error", io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 8, "ab", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllInto(make([]byte, 0, tt.capa), tt.r)
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Fatalf("readAllInto = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
