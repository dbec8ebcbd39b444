package volume

import (
	"fmt"
	"regexp"
)

// validName is Docker's rule for a local volume's name: at least two
// characters, the first a letter or digit.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// MaxNameLen bounds a name, so that the folder names made from it (a
// lock file, a volume being created or removed) fit in a file name.
const MaxNameLen = 200

// CheckName returns an error unless name is a valid volume name:
// [a-zA-Z0-9][a-zA-Z0-9_.-]+, as Docker wants, of at most MaxNameLen
// characters.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid volume name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters or more)", name)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("invalid volume name %q: longer than %d characters", name, MaxNameLen)
	}
	return nil
}
