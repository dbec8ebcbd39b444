package imagediff

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Mode is a file's permission bits plus setuid, setgid and sticky, as a
// tar header holds them (0o4755). It is written as 4-digit octal text.
type Mode uint32

// String returns m as octal with at least 4 digits, e.g. "0644".
func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m)) }

// MarshalJSON writes m as a string of octal digits.
func (m Mode) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Mode) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("mode: %w", err)
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return fmt.Errorf("mode %q: %w", s, err)
	}
	*m = Mode(v)
	return nil
}
