package main

import (
	"github.com/minibuild/minibuild/buildflags"
	"github.com/minibuild/minibuild/session"
	"github.com/spf13/pflag"
)

// registryFlags are the build flags about registries, the remote cache
// and layer compression.
type registryFlags struct {
	push        bool
	cacheTo     []string
	cacheFrom   []string
	compression string
	level       int
	insecure    []string
}

// registerRegistryFlags registers the flags on the build command.
func registerRegistryFlags(fs *pflag.FlagSet) *registryFlags {
	f := &registryFlags{}
	fs.BoolVar(&f.push, "push", false, "push the image to the registry each -t REGISTRY/REPO:TAG names")
	fs.StringArrayVar(&f.cacheTo, "cache-to", nil, "export the build's cache: type=registry,ref=REF or type=local,dest=DIR, with [,mode=min|max][,mounts=true] (mounts: the RUN cache mounts too; repeatable)")
	fs.StringArrayVar(&f.cacheFrom, "cache-from", nil, "import a cache lazily: type=registry,ref=REF or type=local,src=DIR (repeatable)")
	fs.StringVar(&f.compression, "compression", "gzip", "compression of new layers: gzip, zstd or uncompressed")
	fs.IntVar(&f.level, "compression-level", 0, "compression level (gzip 1-9, zstd 1-22; 0: the default)")
	fs.StringArrayVar(&f.insecure, "insecure-registry", nil, "reach registry HOST[:PORT] over plain HTTP (loopback registries always are; repeatable)")
	return f
}

// registerCacheFromFlags registers the flags plan takes of the remote
// cache: the caches a miss is explained against.
func registerCacheFromFlags(fs *pflag.FlagSet) *registryFlags {
	f := &registryFlags{}
	fs.StringArrayVar(&f.cacheFrom, "cache-from", nil, "predict against a remote cache too: type=registry,ref=REF or type=local,src=DIR (repeatable)")
	fs.StringArrayVar(&f.insecure, "insecure-registry", nil, "reach registry HOST[:PORT] over plain HTTP (loopback registries always are; repeatable)")
	return f
}

// apply checks the flags and puts them into set.
func (f *registryFlags) apply(set *session.Settings) error {
	lo, err := buildflags.ParseCompression(f.compression, f.level)
	if err != nil {
		return err
	}
	set.Build.Layer.Compression, set.Build.Layer.Level = lo.Compression, lo.Level
	set.Push = f.push
	for _, v := range f.cacheTo {
		spec, err := buildflags.ParseCache("--cache-to", v, true)
		if err != nil {
			return err
		}
		set.CacheTo = append(set.CacheTo, spec)
	}
	for _, v := range f.cacheFrom {
		spec, err := buildflags.ParseCache("--cache-from", v, false)
		if err != nil {
			return err
		}
		set.CacheFrom = append(set.CacheFrom, spec.Location)
	}
	return nil
}
