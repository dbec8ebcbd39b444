package volume

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"data", true},
		{"my-vol_1.2", true},
		{"0a", true},
		{"A.", true},
		{strings.Repeat("x", MaxNameLen), true},
		{"a", false}, // Docker wants two characters or more
		{"", false},
		{"-data", false},
		{".data", false},
		{"_data", false},
		{"da/ta", false},
		{"../x", false},
		{"da ta", false},
		{"da:ta", false},
		{"dätä", false},
		{"/data", false},
		{"./data", false},
		{strings.Repeat("x", MaxNameLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckName(tc.name)
			if (err == nil) != tc.ok {
				t.Errorf("CheckName(%q) = %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
}
