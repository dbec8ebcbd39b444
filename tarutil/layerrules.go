package tarutil

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// This file holds the layer rules that do not touch a file system, shared
// by Apply and Paths so that both read a layer the same way: the tar
// reading loop, name cleaning, the per-layer bookkeeping of names and the
// checks of an entry that creates an object.

// EachEntry calls fn with every header of tr in order, checking ctx
// between entries. Its errors name the entry (or, for an unreadable header,
// the entry before it).
func EachEntry(ctx context.Context, tr *tar.Reader, fn func(*tar.Header) error) error {
	last := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			where := "the first tar header"
			if last != "" {
				where = fmt.Sprintf("the tar header after entry %q", last)
			}
			return fmt.Errorf("reading %s: %w", where, err)
		}
		last = hdr.Name
		if err := fn(hdr); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
}

// cleanName maps a tar name to a clean root-relative name ("." is the
// root). A leading "/" is the root; names climbing above it are refused.
func cleanName(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: empty name", errUnsafe)
	}
	if strings.ContainsRune(raw, 0) {
		return "", fmt.Errorf("%w: name contains NUL", errUnsafe)
	}
	name := path.Clean(strings.TrimLeft(raw, "/"))
	if name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("%w: name leaves the root", errUnsafe)
	}
	return name, nil
}

// layerNames is the bookkeeping of names during one layer.
type layerNames struct {
	// seen holds every cleaned name of the layer, to refuse duplicates.
	seen map[string]bool
	// touched holds the names the layer created, and their parents: an
	// opaque marker must not remove them, nor a whiteout delete them.
	touched map[string]bool
}

func newLayerNames() layerNames {
	return layerNames{seen: make(map[string]bool), touched: make(map[string]bool)}
}

// layerEntry is one tar entry as the layer rules see it.
type layerEntry struct {
	// name is the clean root-relative name, "." for the root itself (then
	// the entry is a directory).
	name string
	// kind and concerns are ClassifyName's results; the root is ordinary.
	kind     NameKind
	concerns string
}

// classify cleans hdr's name, refuses a duplicate and a root that is not a
// directory, and classifies the name. ok is false for entries that change
// nothing: PAX global headers and AUFS metadata.
func (l *layerNames) classify(hdr *tar.Header) (e layerEntry, ok bool, err error) {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return e, false, nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return e, false, err
	}
	if l.seen[name] {
		return e, false, fmt.Errorf("%w: duplicate entry %q in the layer", errUnsafe, name)
	}
	l.seen[name] = true
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return e, false, fmt.Errorf("%w: an entry of type %q would replace the root directory", errUnsafe, hdr.Typeflag)
		}
		return layerEntry{name: ".", kind: NameOrdinary, concerns: "."}, true, nil
	}
	kind, concerns, err := ClassifyName(name)
	if err != nil || kind == NameAufsMeta {
		return e, false, err
	}
	return layerEntry{name: name, kind: kind, concerns: concerns}, true, nil
}

// markTouched records name and its parents as belonging to this layer.
func (l *layerNames) markTouched(name string) {
	for name != "." && !l.touched[name] {
		l.touched[name] = true
		name = path.Dir(name)
	}
}

// checkCreate checks an entry that creates an object and returns the kind
// of object (a kindOf result) and, for a hardlink, its clean target.
func checkCreate(hdr *tar.Header) (kind byte, link string, err error) {
	if kind, err = kindOf(hdr.Typeflag); err != nil {
		return 0, "", err
	}
	if isSparse(hdr) {
		// A few bytes of sparse map could expand to terabytes of zeros.
		return 0, "", fmt.Errorf("%w: sparse files are not supported", errUnsafe)
	}
	if kind == tar.TypeLink {
		if link, err = cleanName(hdr.Linkname); err != nil {
			return 0, "", fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		if link == "." {
			return 0, "", fmt.Errorf("%w: hardlink to the root", errUnsafe)
		}
	}
	return kind, link, nil
}

// kindOf maps a tar type flag to the object Apply creates.
func kindOf(flag byte) (byte, error) {
	switch flag {
	case tar.TypeReg, tar.TypeRegA:
		return tar.TypeReg, nil
	case tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return flag, nil
	default:
		return 0, fmt.Errorf("unsupported tar entry type %q", flag)
	}
}

// isSparse reports whether hdr describes a GNU sparse file, in the old GNU
// format or in one of the PAX encodings.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
