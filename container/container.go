package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/manifest"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/volume"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options configure one container.
type Options struct {
	Store       *store.Store
	Snapshotter snapshot.Snapshotter
	Executor    executor.Executor
	// Image names the image in Store (a tag or a digest).
	Image string
	// Platform picks the image of an image index (nil: the host's) and,
	// when set, is the platform a single image must be.
	Platform *ocispec.Platform
	// From, when set, is what the container starts from instead of Image:
	// the state a build step left (minibuild run --step).
	From *Image
	// Cmd replaces the image's CMD when not empty.
	Cmd []string
	// Entrypoint, when set, replaces the image's ENTRYPOINT and drops its
	// CMD; "" clears it.
	Entrypoint *string
	// Env are -e values: K=V sets K, a bare K takes the host's value
	// (through LookupEnv) and is skipped when unset there.
	Env       []string
	LookupEnv func(string) (string, bool)
	// User and Workdir replace the image's USER and WORKDIR when set.
	User, Workdir string
	// Network is executor.NetworkHost (when empty) or executor.NetworkNone.
	Network executor.NetworkMode
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Diff, when set, receives after the command exits what it changed,
	// as docker diff prints it: A added, C changed, D deleted. What it
	// wrote into its mounts is not a change of the container.
	Diff io.Writer
	// Mounts are the -v and --mount values, in order; Volumes holds the
	// named volumes they use.
	Mounts  []MountSpec
	Volumes *volume.Store
}

// Image is a filesystem and config a container can start from that need
// not be a stored image: layers in Store, their diffIDs, the config.
type Image struct {
	Layers  []ocispec.Descriptor
	DiffIDs []digest.Digest
	Config  ocispec.ImageConfig
}

// ArgumentError is a mistake in what the container was asked to run: no
// command, a bad -e value, a relative working directory.
type ArgumentError struct{ Err error }

func (e *ArgumentError) Error() string { return e.Err.Error() }
func (e *ArgumentError) Unwrap() error { return e.Err }

// Run runs the container's command and removes the container when it
// exits; the image is never changed. It returns nil when the command
// exits 0, an *executor.ExitError with its code when it exits otherwise,
// and another error when it cannot run.
func Run(ctx context.Context, o Options) (err error) {
	s := o.Store
	from := o.From
	if from == nil {
		desc, err := manifest.Resolve(s, o.Image, o.Platform)
		if err != nil {
			return err
		}
		m, img, err := s.Manifest(desc)
		if err != nil {
			return fmt.Errorf("image %s: %w", o.Image, err)
		}
		from = &Image{Layers: m.Layers, DiffIDs: img.RootFS.DiffIDs, Config: img.Config}
	}
	img := ocispec.Image{Config: from.Config, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: from.DiffIDs}}
	m := ocispec.Manifest{Layers: from.Layers}
	argv, err := commandOf(img.Config, o.Entrypoint, o.Cmd)
	if err != nil {
		return err
	}
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	env, err := environment(img.Config.Env, o.Env, lookup)
	if err != nil {
		return err
	}
	chain, err := snapshot.Chain(m.Layers, img.RootFS.DiffIDs, s.OpenDescriptor, 0)
	if err != nil {
		return fmt.Errorf("image %s: %w", o.Image, err)
	}
	mnt, err := o.Snapshotter.Prepare(ctx, chain)
	if err != nil {
		return fmt.Errorf("preparing the container's rootfs: %w", err)
	}
	// The writable layer goes, whatever happens: the image stays as it was.
	defer func() {
		if rerr := mnt.Release(); rerr != nil && err == nil {
			err = fmt.Errorf("removing the container: %w", rerr)
		}
	}()
	proc, err := process(mnt.Root(), img.Config, o)
	if err != nil {
		return err
	}
	att, err := attach(ctx, o.Volumes, mnt.Root(), o.Mounts)
	if err != nil {
		return err
	}
	// The volumes stay in use until the command and its mounts are gone.
	defer func() {
		if rerr := att.release(); rerr != nil && err == nil {
			err = fmt.Errorf("releasing the container's volumes: %w", rerr)
		}
	}()
	proc.Mounts = att.mounts
	proc.Args, proc.Env = argv, env
	proc.Stdin, proc.Stdout, proc.Stderr = o.Stdin, o.Stdout, o.Stderr
	runErr := o.Executor.Run(ctx, mnt.Root(), proc)
	var exitErr *executor.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return runErr
	}
	if o.Diff != nil {
		if err := printDiff(ctx, mnt, chain, targets(o.Mounts), o.Diff); err != nil {
			return err
		}
	}
	return runErr
}

// targets lists the mounts' targets.
func targets(specs []MountSpec) []string {
	out := make([]string, len(specs))
	for i, m := range specs {
		out[i] = m.Target
	}
	return out
}

// commandOf is Docker's rule for the command: ENTRYPOINT followed by the
// CMD given, else the image's CMD; an entrypoint given replaces the
// ENTRYPOINT and drops the image's CMD.
func commandOf(cfg ocispec.ImageConfig, entrypoint *string, cmd []string) ([]string, error) {
	ep, def := cfg.Entrypoint, cfg.Cmd
	if entrypoint != nil {
		ep, def = nil, nil
		if *entrypoint != "" {
			ep = []string{*entrypoint}
		}
	}
	if len(cmd) == 0 {
		cmd = def
	}
	argv := append(append([]string(nil), ep...), cmd...)
	if len(argv) == 0 {
		return nil, &ArgumentError{errors.New("run: no command: the image has no ENTRYPOINT or CMD, so give one after the name (minibuild run NAME -- CMD)")}
	}
	return argv, nil
}

// environment is the image's environment with the -e values applied: K=V
// sets K, a bare K takes the host's value (and is skipped when unset there).
func environment(image, flags []string, lookup func(string) (string, bool)) ([]string, error) {
	env := append([]string(nil), image...)
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, &ArgumentError{fmt.Errorf("run: invalid --env %q: want KEY=VALUE or KEY", kv)}
		}
		if !ok {
			if v, ok = lookup(k); !ok {
				continue
			}
		}
		replaced := false
		for i, e := range env {
			if name, _, _ := strings.Cut(e, "="); name == k {
				env[i], replaced = k+"="+v, true
			}
		}
		if !replaced {
			env = append(env, k+"="+v)
		}
	}
	return env, nil
}

// process resolves the user (from the container's /etc/passwd and
// /etc/group) and working directory.
func process(dir string, cfg ocispec.ImageConfig, o Options) (executor.Process, error) {
	root, err := rootfs.Open(dir)
	if err != nil {
		return executor.Process{}, err
	}
	defer root.Close()
	spec := o.User
	if spec == "" {
		spec = cfg.User
	}
	if spec == "" {
		spec = "0"
	}
	u, err := root.LookupUser(spec, false)
	if err != nil {
		return executor.Process{}, fmt.Errorf("user %s: %w", spec, err)
	}
	gids := []uint32{uint32(u.GID)}
	for _, g := range u.AdditionalGIDs {
		if g != u.GID {
			gids = append(gids, uint32(g))
		}
	}
	wd := o.Workdir
	if wd == "" {
		wd = cfg.WorkingDir
	}
	if wd == "" {
		wd = "/"
	}
	if !strings.HasPrefix(wd, "/") {
		return executor.Process{}, &ArgumentError{fmt.Errorf("run: --workdir %q is not an absolute path", wd)}
	}
	return executor.Process{Cwd: wd, UID: uint32(u.UID), GID: uint32(u.GID), AdditionalGIDs: gids, Network: o.Network}, nil
}
