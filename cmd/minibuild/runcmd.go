package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/tarutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

// runOptions are the flags of "minibuild run".
type runOptions struct {
	root          *string
	remove        bool
	diff          bool
	network       string
	user          string
	workdir       string
	env           []string
	entrypoint    string
	entrypointSet bool
	snapshotter   string
	runtime       string
}

func runCommand() command {
	return command{
		name:    "run",
		summary: "Run a command in a container: the image plus a thin writable layer, thrown away when it exits",
		usage:   "minibuild run [--root DIR] [--rm] [--diff] [--network host|none] [-u USER] [-w DIR] [-e K=V]... NAME [-- CMD [ARG...]]",
		example: `  minibuild run app:dev                             # the image's ENTRYPOINT and CMD
  minibuild run app:dev -- ls -l /app               # CMD replaced (an ENTRYPOINT stays, as in Docker)
  minibuild run --diff busybox:test -- sh -c 'echo hi > /hi; rm /bin/vi'
                                                    # then print what the container changed:
                                                    # A /hi, C /bin, D /bin/vi (like docker diff)
  minibuild run -u nobody -w /tmp -e DEBUG=1 app:dev -- env
  echo data | minibuild run busybox:test -- wc -c   # stdin reaches the command
  minibuild run busybox:test -- sh -c 'exit 3'; echo $?   # 3: minibuild exits with the command's code

The container is always removed when its command exits (--rm is accepted for
Docker familiarity) and the image is never changed. minibuild exits with the
command's exit code (128+N after signal N), or 125 when it cannot run it.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			o := &runOptions{root: addRoot(fs)}
			fs.SetInterspersed(false)
			fs.BoolVar(&o.remove, "rm", false, "remove the container when it exits (always done; accepted for Docker familiarity)")
			fs.BoolVar(&o.diff, "diff", false, "after the command exits, print on stdout what it changed: A added, C changed, D deleted")
			fs.StringVar(&o.network, "network", "host", "network: host or none")
			fs.StringVarP(&o.user, "user", "u", "", "user to run as: NAME, UID, NAME:GROUP or UID:GID (default: the image's USER)")
			fs.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container (default: the image's WORKDIR)")
			fs.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable K=V, or K to pass on the host's value (repeatable)")
			fs.StringVar(&o.entrypoint, "entrypoint", "", "replace the image's ENTRYPOINT (and drop its CMD); \"\" clears it")
			fs.StringVar(&o.snapshotter, "snapshotter", "auto", "rootfs: overlay, native or auto (overlay when it can be mounted)")
			fs.StringVar(&o.runtime, "runtime", "", "run with an OCI runtime (runc, crun or a path) instead of the built-in executor")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				o.entrypointSet = fs.Changed("entrypoint")
				if len(args) == 0 {
					return usageError{errors.New("run: want an image name")}
				}
				if o.network != "host" && o.network != "none" {
					return usageError{fmt.Errorf("run: invalid --network %q: want host or none", o.network)}
				}
				name, cmd := args[0], args[1:]
				if len(cmd) > 0 && cmd[0] == "--" {
					cmd = cmd[1:]
				}
				err := runContainer(ctx, o, name, cmd, os.Stdin, stdout, stderr)
				var exit containerExit
				var usage usageError
				if err != nil && !errors.As(err, &exit) && !errors.As(err, &usage) {
					err = runFailure{err}
				}
				return err
			}
		},
	}
}

// containerExit is a container command's non-zero exit status, which
// minibuild exits with, printing nothing more.
type containerExit struct{ code int }

func (e containerExit) Error() string {
	return fmt.Sprintf("the container's command exited with code %d", e.code)
}

// runFailure is an error of minibuild run itself: the command could not
// run. minibuild exits 125, as docker run does.
type runFailure struct{ err error }

func (e runFailure) Error() string { return e.err.Error() }
func (e runFailure) Unwrap() error { return e.err }

// runContainer runs cmd (or the image's own command) in a container of
// image name and, with o.diff, prints what it changed.
func runContainer(ctx context.Context, o *runOptions, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	s, err := store.Open(*o.root)
	if err != nil {
		return err
	}
	// Held shared, like a build: prune waits until the container is gone.
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	desc, err := s.Resolve(name)
	if err != nil {
		return err
	}
	m, img, err := s.Manifest(desc)
	if err != nil {
		return fmt.Errorf("image %s: %w", name, err)
	}
	argv, err := containerArgs(img.Config, o.entrypoint, o.entrypointSet, cmd)
	if err != nil {
		return err
	}
	env, err := containerEnv(img.Config.Env, o.env, os.LookupEnv)
	if err != nil {
		return err
	}
	chain, err := imageChain(s, m, img)
	if err != nil {
		return fmt.Errorf("image %s: %w", name, err)
	}
	snap, err := newSnapshotter(s, o.snapshotter)
	if err != nil {
		return err
	}
	mnt, err := snap.Prepare(ctx, chain)
	if err != nil {
		return fmt.Errorf("preparing the container's rootfs: %w", err)
	}
	// The writable layer goes, whatever happens: the image stays as it was.
	defer func() {
		if rerr := mnt.Release(); rerr != nil && err == nil {
			err = fmt.Errorf("removing the container: %w", rerr)
		}
	}()
	proc, err := containerProcess(mnt.Root(), img.Config, o)
	if err != nil {
		return err
	}
	proc.Args, proc.Env = argv, env
	proc.Stdin, proc.Stdout, proc.Stderr = stdin, stdout, stderr
	exec := executor.NewBuiltin(executor.BuiltinOptions{StateDir: filepath.Join(s.Root(), "run")})
	if o.runtime != "" {
		exec = executor.NewRuntime(o.runtime, filepath.Join(s.Root(), "run"))
	}
	runErr := exec.Run(ctx, mnt.Root(), proc)
	var exitErr *executor.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return runErr
	}
	if o.diff {
		if err := printDiff(ctx, mnt, chain, stdout); err != nil {
			return err
		}
	}
	if exitErr != nil {
		return containerExit{code: exitErr.Code}
	}
	return nil
}

// containerArgs is Docker's rule for the command: ENTRYPOINT followed by
// the CMD given after the name, else the image's CMD; --entrypoint
// replaces the ENTRYPOINT and drops the image's CMD.
func containerArgs(cfg ocispec.ImageConfig, entrypoint string, entrypointSet bool, cmd []string) ([]string, error) {
	ep, def := cfg.Entrypoint, cfg.Cmd
	if entrypointSet {
		ep, def = nil, nil
		if entrypoint != "" {
			ep = []string{entrypoint}
		}
	}
	if len(cmd) == 0 {
		cmd = def
	}
	argv := append(append([]string(nil), ep...), cmd...)
	if len(argv) == 0 {
		return nil, usageError{errors.New("run: no command: the image has no ENTRYPOINT or CMD, so give one after the name (minibuild run NAME -- CMD)")}
	}
	return argv, nil
}

// containerEnv is the image's environment with the -e values applied: K=V
// sets K, a bare K takes the host's value (and is skipped when unset there).
func containerEnv(image, flags []string, lookup func(string) (string, bool)) ([]string, error) {
	env := append([]string(nil), image...)
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, usageError{fmt.Errorf("run: invalid --env %q: want KEY=VALUE or KEY", kv)}
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

// containerProcess resolves the user (from the container's /etc/passwd and
// /etc/group) and working directory.
func containerProcess(dir string, cfg ocispec.ImageConfig, o *runOptions) (executor.Process, error) {
	root, err := rootfs.Open(dir)
	if err != nil {
		return executor.Process{}, err
	}
	defer root.Close()
	spec := o.user
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
	wd := o.workdir
	if wd == "" {
		wd = cfg.WorkingDir
	}
	if wd == "" {
		wd = "/"
	}
	if !strings.HasPrefix(wd, "/") {
		return executor.Process{}, usageError{fmt.Errorf("run: --workdir %q is not an absolute path", wd)}
	}
	return executor.Process{Cwd: wd, UID: uint32(u.UID), GID: uint32(u.GID), AdditionalGIDs: gids, Network: o.network}, nil
}

// imageChain is the image's layers as a snapshotter wants them, each
// read from its blob (verified as it is read) and decompressed.
func imageChain(s *store.Store, m ocispec.Manifest, img ocispec.Image) ([]snapshot.Layer, error) {
	if len(m.Layers) != len(img.RootFS.DiffIDs) {
		return nil, fmt.Errorf("%d layers but %d diffIDs in its config", len(m.Layers), len(img.RootFS.DiffIDs))
	}
	chain := make([]snapshot.Layer, len(m.Layers))
	for i, d := range m.Layers {
		chain[i] = snapshot.Layer{DiffID: img.RootFS.DiffIDs[i], Open: func() (io.ReadCloser, error) {
			rc, err := s.OpenDescriptor(d)
			if err != nil {
				return nil, err
			}
			dr, err := tarutil.Decompress(rc)
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
			}
			return &layerReader{ReadCloser: dr, blob: rc}, nil
		}}
	}
	return chain, nil
}

// layerReader closes a decompressor and the blob under it.
type layerReader struct {
	io.ReadCloser
	blob io.Closer
}

func (r *layerReader) Close() error {
	return errors.Join(r.ReadCloser.Close(), r.blob.Close())
}
