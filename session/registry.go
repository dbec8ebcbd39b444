package session

import (
	"context"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Pull pulls name from its registry into s, for platform, reporting what
// it does to r, and tags it name in s unless name is a digest reference
// (as docker pull does). It returns the manifest descriptor.
func Pull(ctx context.Context, c *registry.Client, s *store.Store, name string, platform ocispec.Platform, r builder.Reporter) (ocispec.Descriptor, error) {
	ref, err := registry.ParseRef(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	r.Report(Note{Op: OpPull, Name: name, Text: "pulling " + ref.String()})
	desc, err := c.Pull(ctx, s, name, platform, transfersTo(r, OpPull, name))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref.Digest == "" {
		if err := s.Tag(name, desc); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	r.Report(Done{Op: OpPull, Name: name, Manifest: desc})
	return desc, nil
}

// Push pushes the image desc of s to the registry dest names, reporting
// what it does to r, and returns the manifest pushed.
func Push(ctx context.Context, c *registry.Client, s *store.Store, desc ocispec.Descriptor, dest string, r builder.Reporter) (ocispec.Descriptor, error) {
	r.Report(Note{Op: OpPush, Name: dest, Text: "pushing " + dest})
	pushed, err := c.Push(ctx, s, desc, dest, transfersTo(r, OpPush, dest))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	r.Report(Done{Op: OpPush, Name: dest, Manifest: pushed})
	return pushed, nil
}

// pushAll pushes desc to each name.
func (s *session) pushAll(ctx context.Context, desc ocispec.Descriptor, names []string) error {
	if s.tools.Registry == nil {
		return errNoRegistry
	}
	for _, n := range names {
		if _, err := Push(ctx, s.tools.Registry, s.tools.Store, desc, n, s.tools.Reporter); err != nil {
			return err
		}
	}
	return nil
}

// puller pulls FROM images into the store and names them there.
type puller struct {
	ctx context.Context // the session's, for a Pull without one
	s   *session
}

var _ builder.Puller = (*puller)(nil)

// Pull pulls name for platform.
func (p *puller) Pull(ctx context.Context, name string, platform ocispec.Platform) (ocispec.Descriptor, error) {
	if ctx == nil || ctx.Done() == nil {
		ctx = p.ctx
	}
	return Pull(ctx, p.s.tools.Registry, p.s.tools.Store, name, platform, p.s.tools.Reporter)
}
