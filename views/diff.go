package views

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/minibuild/minibuild/imagediff"
	"github.com/minibuild/minibuild/internal/textfmt"
	digest "github.com/opencontainers/go-digest"
)

// PrintDiff prints how two images differ, as minibuild diff does: the two
// images, then the config fields that differ, the layers position by
// position, and the files added (A), removed (D) or changed (C) with what
// changed. Identical images take one line. noTrunc prints whole digests.
func PrintDiff(w io.Writer, res *imagediff.Result, noTrunc bool) error {
	p := &diffPrinter{w: w, noTrunc: noTrunc}
	switch res.Same {
	case "manifest":
		p.line("identical: same manifest digest %s", res.A.Manifest)
		return p.err
	case "config":
		p.line("identical: same config %s (so the same layers) under another manifest: a %s, b %s",
			p.id(res.A.Config), p.id(res.A.Manifest), p.id(res.B.Manifest))
		return p.err
	}
	p.line("a: %s  %s (%s)", res.A.Name, p.id(res.A.Manifest), res.A.Platform)
	p.line("b: %s  %s (%s)", res.B.Name, p.id(res.B.Manifest), res.B.Platform)
	p.config(res.Config)
	p.layers(res.Layers)
	p.files(res)
	if !res.Differ {
		p.line("\nno differences (times ignored)")
	}
	return p.err
}

// diffPrinter writes the text of PrintDiff, keeping the first error.
type diffPrinter struct {
	w       io.Writer
	noTrunc bool
	err     error
}

func (p *diffPrinter) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *diffPrinter) id(d digest.Digest) string {
	switch {
	case d == "":
		return "-"
	case p.noTrunc:
		return d.String()
	}
	return textfmt.ShortDigest(d)
}

func (p *diffPrinter) config(changes []imagediff.ConfigChange) {
	if len(changes) == 0 {
		p.line("\nconfig: no field differs")
		return
	}
	verb := "differ"
	if len(changes) == 1 {
		verb = "differs"
	}
	p.line("\nconfig: %s %s", textfmt.Plural(len(changes), "field"), verb)
	for _, c := range changes {
		name := c.Field
		if c.Key != "" {
			name += "[" + c.Key + "]"
		}
		p.line("  %s: %s -> %s", name, configValue(c.A), configValue(c.B))
	}
}

// configValue is v as compact JSON, "(none)" when absent.
func configValue(v any) string {
	if v == nil {
		return "(none)"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

func (p *diffPrinter) layers(pairs []imagediff.LayerPair) {
	shared := 0
	for _, l := range pairs {
		if l.Shared {
			shared++
		}
	}
	p.line("\nlayers: %d of %d shared", shared, len(pairs))
	for _, l := range pairs {
		switch {
		case l.Shared:
			note := ""
			if l.A.Digest != l.B.Digest {
				note = fmt.Sprintf(" (other blobs: a %s, b %s)", p.id(l.A.Digest), p.id(l.B.Digest))
			}
			p.line("  %-3d shared   %s  %s%s", l.Index, p.id(l.A.DiffID), p.createdBy(l.A), note)
		case l.B == nil:
			p.line("  %-3d only a   %s  %s", l.Index, p.id(l.A.DiffID), p.createdBy(l.A))
		case l.A == nil:
			p.line("  %-3d only b   %s  %s", l.Index, p.id(l.B.DiffID), p.createdBy(l.B))
		default:
			p.line("  %-3d differs  a %s  %s", l.Index, p.id(l.A.DiffID), p.createdBy(l.A))
			p.line("  %-3s          b %s  %s", "", p.id(l.B.DiffID), p.createdBy(l.B))
		}
	}
}

func (p *diffPrinter) createdBy(l *imagediff.Layer) string {
	if p.noTrunc {
		return textfmt.OneLine(l.CreatedBy)
	}
	return textfmt.Clip(l.CreatedBy, 60)
}

func (p *diffPrinter) files(res *imagediff.Result) {
	if len(res.Files) == 0 {
		switch {
		case !slices.ContainsFunc(res.Layers, func(l imagediff.LayerPair) bool { return !l.Shared }):
		case res.IgnoreTimes:
			p.line("\nfiles: none differ but in times")
		default:
			p.line("\nfiles: none differ (the layers differ in what is not compared: tar entry order, other headers, layer boundaries)")
		}
		return
	}
	count := map[imagediff.Kind]int{}
	for _, f := range res.Files {
		count[f.Kind]++
	}
	p.line("\nfiles: %d changed, %d added, %d removed", count[imagediff.Changed], count[imagediff.Added], count[imagediff.Deleted])
	for _, f := range res.Files {
		path := textfmt.Printable(f.Path)
		switch f.Kind {
		case imagediff.Added:
			p.line("  A %s  %s", path, p.describe(f.B))
		case imagediff.Deleted:
			p.line("  D %s  %s", path, p.describe(f.A))
		default:
			var parts []string
			for _, attr := range f.Changes {
				parts = append(parts, attr+": "+p.attr(attr, f.A)+" -> "+p.attr(attr, f.B))
			}
			p.line("  C %s  %s", path, strings.Join(parts, "; "))
		}
	}
}

// describe is one line about f: type, mode, owner and what its type has.
func (p *diffPrinter) describe(f *imagediff.File) string {
	s := fmt.Sprintf("%s %s %d:%d", f.Type, f.Mode, f.UID, f.GID)
	switch f.Type {
	case imagediff.TypeFile:
		s += " " + p.content(f)
	case imagediff.TypeSymlink:
		s += " -> " + textfmt.Printable(f.Link)
	case imagediff.TypeChar, imagediff.TypeBlock:
		s += " " + device(f)
	}
	if f.Hardlink != "" {
		s += ", hard link to " + textfmt.Printable(f.Hardlink)
	}
	return s
}

// attr is the value of one attribute of f, as a C line shows it.
func (p *diffPrinter) attr(attr string, f *imagediff.File) string {
	switch attr {
	case imagediff.AttrType:
		return f.Type
	case imagediff.AttrContent:
		return p.content(f)
	case imagediff.AttrMode:
		return f.Mode.String()
	case imagediff.AttrOwner:
		return fmt.Sprintf("%d:%d", f.UID, f.GID)
	case imagediff.AttrLink:
		return fmt.Sprintf("%q", f.Link)
	case imagediff.AttrHardlink:
		if f.Hardlink == "" {
			return "(none)"
		}
		return textfmt.Printable(f.Hardlink)
	case imagediff.AttrMtime:
		if f.ModTime.IsZero() {
			return "(none)"
		}
		return f.ModTime.UTC().Format(time.RFC3339Nano)
	case imagediff.AttrXattrs:
		return xattrs(f.Xattrs)
	case imagediff.AttrDevice:
		return device(f)
	}
	return "?"
}

func (p *diffPrinter) content(f *imagediff.File) string {
	return fmt.Sprintf("%d B %s", f.Size, p.id(f.Digest))
}

func device(f *imagediff.File) string { return fmt.Sprintf("%d,%d", f.Devmajor, f.Devminor) }

// xattrs lists m as key="value" pairs, sorted, or "(none)".
func xattrs(m map[string]string) string {
	if len(m) == 0 {
		return "(none)"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", textfmt.Printable(k), m[k]))
	}
	return strings.Join(parts, ",")
}
