package rootfs

import (
	"bytes"
	"strconv"
	"strings"
)

// maxUserFileBytes bounds how much of /etc/passwd or /etc/group is read.
const maxUserFileBytes = 1 << 20

// passwdEntry is one line of an /etc/passwd file.
type passwdEntry struct {
	name     string
	uid, gid int
	home     string
}

// groupEntry is one line of an /etc/group file.
type groupEntry struct {
	name    string
	gid     int
	members []string
}

// fileLines returns the lines of a passwd or group file worth parsing:
// trimmed of blank space, without blank lines and "#" comments.
func fileLines(data []byte) [][]byte {
	var out [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		out = append(out, line)
	}
	return out
}

// field returns the i-th colon-separated field of fields, or "" if the line
// is too short.
func field(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}

// lenientAtoi parses a numeric field as moby/sys/user does: a malformed
// number reads as 0.
func lenientAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// parsePasswd parses /etc/passwd content (name:password:UID:GID:GECOS:home:shell),
// tolerating short lines and malformed numbers as Docker does.
func parsePasswd(data []byte) []passwdEntry {
	var out []passwdEntry
	for _, line := range fileLines(data) {
		f := strings.Split(string(line), ":")
		out = append(out, passwdEntry{
			name: field(f, 0),
			uid:  lenientAtoi(field(f, 2)),
			gid:  lenientAtoi(field(f, 3)),
			home: field(f, 5),
		})
	}
	return out
}

// parseGroup parses /etc/group content (name:password:GID:member,member,...),
// tolerating short lines and malformed numbers as Docker does.
func parseGroup(data []byte) []groupEntry {
	var out []groupEntry
	for _, line := range fileLines(data) {
		f := strings.Split(string(line), ":")
		g := groupEntry{name: field(f, 0), gid: lenientAtoi(field(f, 2))}
		if list := field(f, 3); list != "" {
			g.members = strings.Split(list, ",")
		}
		out = append(out, g)
	}
	return out
}
