package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/export"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/tarutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

// registryFlags are the build flags about registries, the remote cache,
// layer compression and the docker and registry outputs.
type registryFlags struct {
	push        bool
	cacheTo     []string
	cacheFrom   []string
	compression string
	level       int
	insecure    []string
	// outputs are the -o values of type docker and registry, which
	// claimOutputs takes from the build's list.
	outputs []regOutput
}

// regOutput is a parsed -o type=docker or type=registry value.
type regOutput struct {
	kind  string // "docker" or "registry"
	dest  string // docker: the archive's path, "-" for stdout
	names []string
}

// registerRegistryFlags registers the flags on the build command.
func registerRegistryFlags(fs *pflag.FlagSet) *registryFlags {
	f := &registryFlags{}
	fs.BoolVar(&f.push, "push", false, "push the image to the registry each -t REGISTRY/REPO:TAG names")
	fs.StringArrayVar(&f.cacheTo, "cache-to", nil, "export the build's cache: type=registry,ref=REF[,mode=min|max] or type=local,dest=DIR[,mode=min|max] (repeatable)")
	fs.StringArrayVar(&f.cacheFrom, "cache-from", nil, "import a cache lazily: type=registry,ref=REF or type=local,src=DIR (repeatable)")
	fs.StringVar(&f.compression, "compression", "gzip", "compression of new layers: gzip, zstd or uncompressed")
	fs.IntVar(&f.level, "compression-level", 0, "compression level (gzip 1-9, zstd 1-22; 0: the default)")
	fs.StringArrayVar(&f.insecure, "insecure-registry", nil, "reach registry HOST[:PORT] over plain HTTP (loopback registries always are; repeatable)")
	return f
}

// claimOutputs takes the -o values of type docker and registry out of
// outs, parsed, and returns the others for the build's own exports.
func (f *registryFlags) claimOutputs(outs []string) ([]string, error) {
	var rest []string
	for _, s := range outs {
		o, ok, err := parseRegOutput(s)
		if err != nil {
			return nil, err
		}
		if !ok {
			rest = append(rest, s)
			continue
		}
		f.outputs = append(f.outputs, o)
	}
	return rest, nil
}

// parseRegOutput parses "type=docker,dest=FILE[,name=N]" and
// "type=registry[,name=N]" (name= may list several names, quoted as one
// CSV field: "name=a,b"); ok is false for any other type.
func parseRegOutput(s string) (regOutput, bool, error) {
	if !strings.Contains(s, "type=docker") && !strings.Contains(s, "type=registry") {
		return regOutput{}, false, nil
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return regOutput{}, false, nil // parseOutput reports it
	}
	kv := map[string]string{}
	for _, field := range fields {
		k, v, _ := strings.Cut(field, "=")
		kv[k] = v
	}
	o := regOutput{kind: kv["type"], dest: kv["dest"]}
	if o.kind != "docker" && o.kind != "registry" {
		return regOutput{}, false, nil
	}
	for k := range kv {
		switch k {
		case "type", "dest", "name":
		default:
			return o, true, fmt.Errorf("invalid --output %q: unknown key %q", s, k)
		}
	}
	for _, n := range strings.Split(kv["name"], ",") {
		if n = strings.TrimSpace(n); n != "" {
			if _, err := store.NormalizeName(n); err != nil {
				return o, true, fmt.Errorf("invalid --output %q: %w", s, err)
			}
			o.names = append(o.names, n)
		}
	}
	if o.kind == "docker" && o.dest == "" {
		return o, true, fmt.Errorf("invalid --output %q: type=docker needs dest=FILE", s)
	}
	if o.kind == "registry" && o.dest != "" {
		return o, true, fmt.Errorf("invalid --output %q: type=registry takes name=, not dest=", s)
	}
	return o, true, nil
}

// layerOptions checks --compression and --compression-level.
func (f *registryFlags) layerOptions() (tarutil.LayerOptions, error) {
	var lo tarutil.LayerOptions
	switch f.compression {
	case "gzip", "":
		lo.Compression = tarutil.Gzip
		if f.level != 0 && (f.level < 1 || f.level > 9) {
			return lo, fmt.Errorf("invalid --compression-level %d: gzip takes 1-9", f.level)
		}
	case "zstd":
		lo.Compression = tarutil.Zstd
		if f.level != 0 && (f.level < 1 || f.level > 22) {
			return lo, fmt.Errorf("invalid --compression-level %d: zstd takes 1-22", f.level)
		}
	case "uncompressed":
		lo.Compression = tarutil.Uncompressed
		if f.level != 0 {
			return lo, errors.New("invalid --compression-level: an uncompressed layer has no level")
		}
	default:
		return lo, fmt.Errorf("invalid --compression %q: want gzip, zstd or uncompressed", f.compression)
	}
	lo.Level = f.level
	return lo, nil
}

// apply checks the flags and sets up opts for them: layer compression, a
// Puller for FROM images from registries, and the imported caches (as
// opts.RemoteCache and as the store's fetcher). The function it returns
// does the rest once the build has succeeded: the docker and registry
// outputs, --push, and --cache-to. progress is the --progress mode.
func (f *registryFlags) apply(ctx context.Context, opts *builder.Options, s *store.Store, c *cache.Cache, progress string, stderr io.Writer) (func(*builder.Result) error, error) {
	lo, err := f.layerOptions()
	if err != nil {
		return nil, usageError{err}
	}
	opts.Layer.Compression, opts.Layer.Level = lo.Compression, lo.Level
	if f.push && len(opts.Tags) == 0 {
		return nil, usageError{errors.New("--push needs a name to push to: -t REGISTRY/REPO:TAG")}
	}
	for _, o := range f.outputs {
		if o.kind == "registry" && len(o.names) == 0 && len(opts.Tags) == 0 {
			return nil, usageError{errors.New("-o type=registry needs name=REGISTRY/REPO:TAG or -t")}
		}
	}
	var to []cacheSpec
	for _, v := range f.cacheTo {
		spec, err := parseCacheSpec("--cache-to", v, true)
		if err != nil {
			return nil, usageError{err}
		}
		to = append(to, spec)
	}
	var from []cacheSpec
	for _, v := range f.cacheFrom {
		spec, err := parseCacheSpec("--cache-from", v, false)
		if err != nil {
			return nil, usageError{err}
		}
		from = append(from, spec)
	}
	client, err := registry.New(registry.Options{Insecure: f.insecure})
	if err != nil {
		return nil, err
	}
	p := newRegPrinter(progress, stderr)
	opts.Puller = &storePuller{ctx: ctx, client: client, s: s, platform: opts.Platform, p: p}
	var sources []*registry.CacheSource
	for _, spec := range from {
		src, err := client.ImportCache(ctx, spec.loc)
		if err != nil {
			// A cache that is not there yet (the first CI run) is no
			// reason to fail the build.
			p.note("cache", spec.loc.String(), "warning: %v", err)
			continue
		}
		p.note("cache", spec.loc.String(), "cache: %d entries from %s (layers are downloaded only when needed)", src.Len(), spec.loc)
		sources = append(sources, src)
	}
	if len(sources) > 0 {
		rc := registry.NewRemoteCache(ctx, p.cacheDownloads(), sources...)
		opts.RemoteCache = rc
		s.SetFetcher(rc, rc.Descriptor)
	}
	tags, df, target := opts.Tags, opts.Dockerfile, opts.Target
	after := func(res *builder.Result) error {
		if len(sources) > 0 && len(tags) > 0 {
			// An image tagged in the store is whole: its cached layers
			// are downloaded now, as the tag is an output too.
			if err := materialize(s, res.Manifest); err != nil {
				return fmt.Errorf("downloading the image's cached layers: %w", err)
			}
		}
		for _, o := range f.outputs {
			names := o.names
			if len(names) == 0 {
				names = tags
			}
			if err := f.export(ctx, client, s, res.Manifest, o, names, p); err != nil {
				return err
			}
		}
		if f.push {
			if err := pushAll(ctx, client, s, res.Manifest, tags, p); err != nil {
				return err
			}
		}
		for _, spec := range to {
			records := cacheRecords(res, spec.mode, df, target, c, s)
			desc, err := client.ExportCache(ctx, s, records, spec.loc, p.blobs("cache", spec.loc.String()))
			if err != nil {
				return err
			}
			p.note("cache", spec.loc.String(), "cache: exported %d entries (mode=%s) to %s: %s", len(records), spec.mode, spec.loc, desc.Digest)
		}
		if len(sources) > 0 {
			dropUnfetched(res, c, s)
		}
		return nil
	}
	return after, nil
}

// materialize makes every blob of the image desc local, downloading
// through the store's fetcher what only it has, verified.
func materialize(s *store.Store, desc ocispec.Descriptor) error {
	m, _, err := s.Manifest(desc)
	if err != nil {
		return err
	}
	for _, l := range m.Layers {
		if s.HasBlob(l.Digest) {
			continue
		}
		rc, err := s.OpenDescriptor(l)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// dropUnfetched removes the local cache entries this build took from an
// imported cache whose layers it never needed: without the layer here
// they would only make "cache verify" complain, and a later build with
// --cache-from finds them again.
func dropUnfetched(res *builder.Result, c *cache.Cache, s *store.Store) {
	for _, st := range res.Steps {
		if st.Cache == builder.CacheHit && st.Layer != nil && !s.HasBlob(st.Layer.Digest) {
			_ = c.Delete(st.Key)
		}
	}
}

// export writes one docker or registry output.
func (f *registryFlags) export(ctx context.Context, client *registry.Client, s *store.Store, desc ocispec.Descriptor, o regOutput, names []string, p *regPrinter) error {
	if o.kind == "registry" {
		return pushAll(ctx, client, s, desc, names, p)
	}
	if o.dest == "-" {
		return export.Docker(os.Stdout, s, desc, names)
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.dest), ".minibuild-docker-*")
	if err != nil {
		return fmt.Errorf("exporting to %s: %w", o.dest, err)
	}
	defer os.Remove(tmp.Name())
	err = export.Docker(tmp, s, desc, names)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), o.dest)
	}
	if err != nil {
		return fmt.Errorf("exporting to %s: %w", o.dest, err)
	}
	return nil
}

// pushAll pushes desc to each name.
func pushAll(ctx context.Context, client *registry.Client, s *store.Store, desc ocispec.Descriptor, names []string, p *regPrinter) error {
	for _, n := range names {
		p.note("push", n, "pushing %s", n)
		pushed, err := client.Push(ctx, s, desc, n, p.blobs("push", n))
		if err != nil {
			return err
		}
		p.done("push", n, pushed)
	}
	return nil
}

// storePuller pulls FROM images into the store and names them there.
type storePuller struct {
	ctx      context.Context
	client   *registry.Client
	s        *store.Store
	platform ocispec.Platform
	p        *regPrinter
}

var _ builder.Puller = (*storePuller)(nil)

// Pull pulls name and, when it names a tag, tags the image so in the
// store (as docker pull does), so later builds find it there.
func (sp *storePuller) Pull(ctx context.Context, name string) (ocispec.Descriptor, error) {
	if ctx == nil || ctx.Done() == nil {
		ctx = sp.ctx
	}
	return pullAndTag(ctx, sp.client, sp.s, name, sp.platform, sp.p)
}

// pullAndTag pulls name into s, reporting through p, and tags it name
// unless name is a digest reference.
func pullAndTag(ctx context.Context, client *registry.Client, s *store.Store, name string, platform ocispec.Platform, p *regPrinter) (ocispec.Descriptor, error) {
	ref, err := registry.ParseRef(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	p.note("pull", name, "pulling %s", ref)
	desc, err := client.Pull(ctx, s, name, platform, p.blobs("pull", name))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref.Digest == "" {
		if err := s.Tag(name, desc); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	p.done("pull", name, desc)
	return desc, nil
}
