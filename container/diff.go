package container

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/tarutil"
)

// printDiff prints what the container changed, as docker diff does: one
// "A PATH" (added), "C PATH" (changed: it was in the image) or "D PATH"
// (deleted) line per path, sorted by path. The image's paths come from the
// chain's tar headers (tarutil.Paths), its changes from tarutil.Changes.
// Nothing at or under a mount's target is printed: what the command wrote
// there went into the mount (a volume, a host directory), not into the
// container, as docker diff leaves volumes out.
func printDiff(ctx context.Context, mnt snapshot.Mount, chain []snapshot.Layer, mounted []string, w io.Writer) error {
	entries, err := mnt.Diff(ctx)
	if err != nil {
		return fmt.Errorf("computing the container's changes: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	img, err := imagePaths(ctx, chain)
	if err != nil {
		return fmt.Errorf("listing the image's files: %w", err)
	}
	changes, err := img.Changes(entries)
	if err != nil {
		return fmt.Errorf("classifying the container's changes: %w", err)
	}
	for _, c := range changes {
		if under(c.Path, mounted) {
			continue
		}
		if _, err := fmt.Fprintf(w, "%c %s\n", c.Kind, c.Path); err != nil {
			return err
		}
	}
	return nil
}

// under reports whether the absolute path p is one of dirs or inside one.
func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// imagePaths applies the tar headers of the chain's layers, in order, to
// an empty root.
func imagePaths(ctx context.Context, chain []snapshot.Layer) (*tarutil.Paths, error) {
	img := tarutil.NewPaths()
	for _, l := range chain {
		if err := applyHeaders(ctx, img, l); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.DiffID, err)
		}
	}
	return img, nil
}

func applyHeaders(ctx context.Context, img *tarutil.Paths, l snapshot.Layer) error {
	rc, err := l.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return img.ApplyHeaders(ctx, rc)
}
