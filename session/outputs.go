package session

import (
	"context"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/export"
	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// writeOutputs writes the outputs: first the OCI layouts and local
// directories, then (once an image tagged with layers of a remote cache
// has them all) the docker archives and registry pushes, then Push.
// res.Manifest may be an image index (a build of several platforms): an
// OCI layout and a push hold the index and all its images, a local
// directory gets one subdirectory per platform (export.Local), and a
// docker archive, which holds one platform, is refused before any
// output is written.
func (s *session) writeOutputs(ctx context.Context, res *builder.Result) error {
	if err := s.checkOutputs(res.Manifest); err != nil {
		return err
	}
	for _, o := range s.set.Outputs {
		var err error
		switch o.Kind {
		case OutputOCI:
			err = s.writeOCI(res.Manifest, o)
		case OutputLocal:
			err = export.Local(ctx, s.tools.Store, res.Manifest, o.Dest)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("exporting to %s: %w", o.Dest, err)
		}
	}
	if s.remote != nil && len(s.set.Tags) > 0 {
		// An image tagged in the store is whole: its cached layers are
		// downloaded now, as the tag is an output too.
		if err := s.materialize(res.Manifest); err != nil {
			return fmt.Errorf("downloading the image's cached layers: %w", err)
		}
	}
	for _, o := range s.set.Outputs {
		switch o.Kind {
		case OutputDocker:
			write := func(w io.Writer) error { return export.Docker(w, s.tools.Store, res.Manifest, s.set.names(o)) }
			if o.Dest == "-" {
				if err := write(s.tools.Stdout); err != nil {
					return err
				}
				continue
			}
			if err := atomicfile.Write(o.Dest, 0o644, write); err != nil {
				return fmt.Errorf("exporting to %s: %w", o.Dest, err)
			}
		case OutputRegistry:
			if err := s.pushAll(ctx, res.Manifest, s.set.names(o)); err != nil {
				return err
			}
		}
	}
	if s.set.Push {
		return s.pushAll(ctx, res.Manifest, s.set.Tags)
	}
	return nil
}

// checkOutputs refuses outputs that cannot hold the image desc.
func (s *session) checkOutputs(desc ocispec.Descriptor) error {
	if !store.IsIndexType(desc.MediaType) {
		return nil
	}
	for _, o := range s.set.Outputs {
		if o.Kind == OutputDocker {
			return fmt.Errorf("-o type=docker of a build of several platforms: %w", export.ErrDockerIndex)
		}
	}
	return nil
}

// writeOCI writes an OCI image layout: a directory, or a tar archive.
func (s *session) writeOCI(desc ocispec.Descriptor, o Output) error {
	var imgs []store.ExportImage
	for _, n := range s.set.names(o) {
		imgs = append(imgs, store.ExportImage{Name: n, Descriptor: desc})
	}
	if len(imgs) == 0 {
		imgs = []store.ExportImage{{Descriptor: desc}}
	}
	switch {
	case !o.Tar:
		return s.tools.Store.ExportLayout(o.Dest, imgs)
	case o.Dest == "-":
		return s.tools.Store.ExportLayoutTar(s.tools.Stdout, imgs)
	}
	return atomicfile.Write(o.Dest, 0o644, func(w io.Writer) error { return s.tools.Store.ExportLayoutTar(w, imgs) })
}
