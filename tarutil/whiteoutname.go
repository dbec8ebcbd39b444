package tarutil

import (
	"fmt"
	"strings"
)

// Whiteout names of the OCI image-spec layer format. ClassifyName tells
// them apart; Apply, the snapshotter's differ and Paths follow one set of
// rules built on them.
const (
	// WhiteoutPrefix starts the name of an entry that deletes, from the
	// lower layers, the name after it: "dir/.wh.NAME" deletes "dir/NAME".
	WhiteoutPrefix = ".wh."
	// WhiteoutMetaPrefix starts the AUFS metadata names (".wh..wh.*"),
	// which are not whiteouts: Apply skips them and everything below them.
	WhiteoutMetaPrefix = ".wh..wh."
	// WhiteoutOpaque is the last component of an opaque marker:
	// "dir/.wh..wh..opq" hides everything the lower layers left in dir.
	WhiteoutOpaque = ".wh..wh..opq"
)

// OverlayOpaqueXattr is the overlayfs form of an opaque marker: the
// extended attribute, set to "y", of a directory whose lower layers are
// hidden.
const OverlayOpaqueXattr = "trusted.overlay.opaque"

// OverlayUserOpaqueXattr is OverlayOpaqueXattr as overlayfs mounted with
// the userxattr option (in a user namespace) writes and reads it.
const OverlayUserOpaqueXattr = "user.overlay.opaque"

// NameKind is what a layer entry's name means under the whiteout rules.
type NameKind int

const (
	// NameOrdinary names a file system object the entry creates.
	NameOrdinary NameKind = iota
	// NameOpaque is an opaque marker, "DIR/.wh..wh..opq".
	NameOpaque
	// NameWhiteout is a whiteout, "DIR/.wh.TARGET".
	NameWhiteout
	// NameAufsMeta has an AUFS metadata component (".wh..wh.*" other than
	// a final opaque marker): the entry is skipped.
	NameAufsMeta
)

// ClassifyName says what name, a clean root-relative layer entry name
// other than "." (no leading "/", no "." or ".." components, as
// path.Clean leaves it), means under the whiteout rules, and returns the
// path it concerns, root-relative and clean: for NameOpaque the directory
// made opaque ("." for the root), for NameWhiteout the path deleted, else
// name itself. A whiteout of "", "." or ".." is an error.
func ClassifyName(name string) (NameKind, string, error) {
	if !strings.Contains(name, WhiteoutPrefix) {
		return NameOrdinary, name, nil
	}
	for rest := name; ; {
		comp, more, found := strings.Cut(rest, "/")
		if strings.HasPrefix(comp, WhiteoutMetaPrefix) && (found || comp != WhiteoutOpaque) {
			return NameAufsMeta, name, nil
		}
		if !found {
			break
		}
		rest = more
	}
	dir, base := ".", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, base = name[:i], name[i+1:]
	}
	switch {
	case base == WhiteoutOpaque:
		return NameOpaque, dir, nil
	case strings.HasPrefix(base, WhiteoutPrefix):
		target := base[len(WhiteoutPrefix):]
		if target == "" || target == "." || target == ".." {
			return 0, "", fmt.Errorf("%w: invalid whiteout %q", errUnsafe, base)
		}
		return NameWhiteout, joinName(dir, target), nil
	}
	return NameOrdinary, name, nil
}
