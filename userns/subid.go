package userns

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Range is a run of subordinate IDs: Count IDs from Start, as one line
// of /etc/subuid or /etc/subgid gives them.
type Range struct {
	Start uint32
	Count uint32
}

// String formats r as usermod's --add-subuids takes it: FIRST-LAST.
func (r Range) String() string {
	return fmt.Sprintf("%d-%d", r.Start, uint64(r.Start)+uint64(r.Count)-1)
}

// entry is one well-formed line of a subordinate ID file.
type entry struct {
	owner string
	Range
}

// parseEntries returns the well-formed lines of a subordinate ID file
// (NAME:START:COUNT or UID:START:COUNT), in file order; other lines are
// skipped, as newuidmap skips them.
func parseEntries(r io.Reader) ([]entry, error) {
	var out []entry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if e, ok := parseEntry(sc.Text()); ok {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseEntry parses one line; ok is false for a malformed one: not three
// fields, an empty owner, a count of 0 or a range past 2^32.
func parseEntry(line string) (entry, bool) {
	f := strings.Split(strings.TrimSpace(line), ":")
	if len(f) != 3 || f[0] == "" || strings.HasPrefix(f[0], "#") {
		return entry{}, false
	}
	start, err1 := strconv.ParseUint(f[1], 10, 32)
	count, err2 := strconv.ParseUint(f[2], 10, 32)
	if err1 != nil || err2 != nil || count == 0 || start+count > 1<<32 {
		return entry{}, false
	}
	return entry{owner: f[0], Range: Range{Start: uint32(start), Count: uint32(count)}}, true
}

// ParseSubIDs returns the ranges that r, in the format of /etc/subuid,
// gives the user called name or with the numeric ID uid, in file order.
// Malformed lines are ignored.
func ParseSubIDs(r io.Reader, name string, uid int) ([]Range, error) {
	entries, err := parseEntries(r)
	if err != nil {
		return nil, err
	}
	id := strconv.Itoa(uid)
	var out []Range
	for _, e := range entries {
		if (name != "" && e.owner == name) || e.owner == id {
			out = append(out, e.Range)
		}
	}
	return out, nil
}

// ReadSubIDs is ParseSubIDs on the file at path; a missing file gives no ranges.
func ReadSubIDs(path, name string, uid int) ([]Range, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading subordinate IDs: %w", err)
	}
	defer f.Close()
	rs, err := ParseSubIDs(f, name, uid)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return rs, nil
}

// suggestedSize is the size of the range SuggestRange proposes (what
// useradd gives a new user by default).
const suggestedSize = 65536

// SuggestRange proposes a range of 65536 IDs that no line of the files
// at paths uses: from 100000, or after the last range given, rounded up
// to a multiple of 65536.
func SuggestRange(paths ...string) Range {
	start := uint64(100000)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		entries, _ := parseEntries(f)
		f.Close()
		for _, e := range entries {
			if end := uint64(e.Start) + uint64(e.Count); end > start {
				start = (end + suggestedSize - 1) / suggestedSize * suggestedSize
			}
		}
	}
	if start+suggestedSize > 1<<32 {
		start = 100000
	}
	return Range{Start: uint32(start), Count: suggestedSize}
}

// Total is the number of IDs in rs.
func Total(rs []Range) uint64 {
	var n uint64
	for _, r := range rs {
		n += uint64(r.Count)
	}
	return n
}
