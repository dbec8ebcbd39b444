package unixfs

import "io/fs"

// ModeBits converts a Go file mode's permission, setuid, setgid and
// sticky bits to the Unix bits chmod takes (0755, 04755, 01777).
func ModeBits(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}
