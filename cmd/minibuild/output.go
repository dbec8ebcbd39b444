package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/export"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// output is one parsed -o/--output value.
type output struct {
	kind string // "oci" or "local"
	dest string
	tar  bool
	name string
}

// parseOutput parses "type=oci,dest=DIR[,tar=true][,name=N]",
// "type=local,dest=DIR", or a bare DIR (local, as docker build -o DIR).
func parseOutput(s string) (output, error) {
	if !strings.Contains(s, "=") {
		return output{kind: "local", dest: s}, nil
	}
	var o output
	// Like buildx, the value is one CSV record, so a path with a comma
	// can be quoted: -o 'type=local,"dest=a,b"'.
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return o, fmt.Errorf("invalid --output %q: %w", s, err)
	}
	for _, field := range fields {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return o, fmt.Errorf("invalid --output %q: %q is not KEY=VALUE", s, field)
		}
		switch k {
		case "type":
			o.kind = v
		case "dest":
			o.dest = v
		case "tar":
			switch v {
			case "true":
				o.tar = true
			case "false":
			default:
				return o, fmt.Errorf("invalid --output %q: tar must be true or false", s)
			}
		case "name":
			o.name = v
		default:
			return o, fmt.Errorf("invalid --output %q: unknown key %q", s, k)
		}
	}
	switch o.kind {
	case "oci", "local":
	case "":
		return o, fmt.Errorf("invalid --output %q: type= is required (oci or local)", s)
	default:
		return o, fmt.Errorf("invalid --output %q: unknown type %q (want oci or local)", s, o.kind)
	}
	if o.dest == "" {
		return o, fmt.Errorf("invalid --output %q: dest= is required", s)
	}
	if o.tar && o.kind != "oci" {
		return o, fmt.Errorf("invalid --output %q: tar=true applies to type=oci only", s)
	}
	return o, nil
}

// exportAll writes every requested output of a finished build.
func exportAll(ctx context.Context, s *store.Store, res *builder.Result, tags, outs []string) error {
	for _, spec := range outs {
		o, err := parseOutput(spec)
		if err != nil {
			return err
		}
		names := tags
		if o.name != "" {
			names = strings.Split(o.name, ",")
		}
		switch o.kind {
		case "oci":
			err = exportOCI(s, res.Manifest, names, o)
		case "local":
			err = export.Local(ctx, s, res.Manifest, o.dest)
		}
		if err != nil {
			return fmt.Errorf("exporting to %s: %w", o.dest, err)
		}
	}
	return nil
}

func exportOCI(s *store.Store, desc ocispec.Descriptor, names []string, o output) error {
	var imgs []store.ExportImage
	for _, n := range names {
		imgs = append(imgs, store.ExportImage{Name: n, Descriptor: desc})
	}
	if len(imgs) == 0 {
		imgs = []store.ExportImage{{Descriptor: desc}}
	}
	if !o.tar {
		return s.ExportLayout(o.dest, imgs)
	}
	if o.dest == "-" {
		return s.ExportLayoutTar(os.Stdout, imgs)
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.dest), ".minibuild-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := s.ExportLayoutTar(tmp, imgs); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), o.dest)
}

// parsePlatform parses os/arch[/variant].
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid --platform %q: want os/arch[/variant]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if p.OS != "linux" {
		return p, fmt.Errorf("invalid --platform %q: minibuild builds linux images only", s)
	}
	return p, nil
}

// metadata is the --metadata-file document.
type metadata struct {
	Image struct {
		Name           string `json:"name"`
		ManifestDigest string `json:"manifestDigest"`
		ConfigDigest   string `json:"configDigest"`
	} `json:"image"`
	Steps []metadataStep `json:"steps"`
}

type metadataStep struct {
	builder.StepResult
	Layer *string `json:"layer"`
	Key   *string `json:"key"`
}

// writeMetadata writes the metadata file atomically.
func writeMetadata(path string, res *builder.Result, tags []string) error {
	var m metadata
	if len(tags) > 0 {
		m.Image.Name = tags[0]
	}
	m.Image.ManifestDigest = res.Manifest.Digest.String()
	m.Image.ConfigDigest = res.Config.Digest.String()
	m.Steps = []metadataStep{}
	for _, st := range res.Steps {
		ms := metadataStep{StepResult: st}
		key := st.Key.String()
		ms.Key = &key
		if st.Layer != nil {
			l := st.Layer.Digest.String()
			ms.Layer = &l
		}
		m.Steps = append(m.Steps, ms)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing metadata file: %w", err)
	}
	return os.Rename(tmp, path)
}
