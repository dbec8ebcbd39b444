package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/minibuild/minibuild/buildflags"
	"github.com/minibuild/minibuild/container"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/volume"
	digest "github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
)

// runOptions are the flags of "minibuild run".
type runOptions struct {
	root          *string
	remove        bool
	diff          bool
	network       string
	networkMode   executor.NetworkMode // network, checked
	user          string
	workdir       string
	env           []string
	entrypoint    string
	entrypointSet bool
	snapshotter   string
	runtime       string
	step          string
	platform      string
	volumes       []string
	mountFlags    []string
	mounts        []container.MountSpec // volumes and mountFlags, parsed
}

func runCommand() command {
	return command{
		name:    "run",
		summary: "Run a command in a container: the image plus a thin writable layer, thrown away when it exits",
		usage:   "minibuild run [--root DIR] [--rm] [--diff] [--network host|none] [-u USER] [-w DIR] [-e K=V]... [-v VOLUME:/PATH[:ro]]... [--mount type=volume|bind,...]... [--platform os/arch[/variant]] NAME [-- CMD [ARG...]]",
		example: `  minibuild run app:dev                             # the image's ENTRYPOINT and CMD
  minibuild run app:dev -- ls -l /app               # CMD replaced (an ENTRYPOINT stays, as in Docker)
  minibuild run --diff busybox:test -- sh -c 'echo hi > /hi; rm /bin/vi'
                                                    # then print what the container changed:
                                                    # A /hi, C /bin, D /bin/vi (like docker diff)
  minibuild run -u nobody -w /tmp -e DEBUG=1 app:dev -- env
  echo data | minibuild run busybox:test -- wc -c   # stdin reaches the command
  minibuild run --step sha256:0879… -- cat /f       # the state a cached step left (its key from plan or
                                                    # --metadata-file): a later step may have removed /f
  minibuild run busybox:test -- sh -c 'exit 3'; echo $?   # 3: minibuild exits with the command's code
  minibuild run -v data:/data busybox:test -- sh -c 'echo hi > /data/f'
  minibuild run -v data:/data busybox:test -- cat /data/f   # hi: the volume data outlives its containers
  minibuild run -v "$PWD":/src:ro -w /src busybox:test -- ls   # a host directory, read-only
  minibuild run --mount type=volume,source=data,target=/data,readonly busybox:test -- ls /data
  minibuild run --platform linux/arm64 app:multi -- uname -m   # one image of a multi-platform image
                                                    # (default: the host's; another arch needs binfmt_misc)

The container is always removed when its command exits (--rm is accepted for
Docker familiarity) and the image is never changed. minibuild exits with the
command's exit code (128+N after signal N), or 125 when it cannot run it.

-v NAME:/PATH mounts the named volume NAME (created on first use, kept by
'minibuild volume'); a new or empty volume mounted on a directory of the
image first gets that directory's content (:nocopy keeps it empty).
-v /HOST/PATH:/PATH binds a host path, which must exist. Options: ro, rw.
What the command writes into a mount is not thrown away, nor shown by --diff.`,
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
			fs.StringArrayVarP(&o.volumes, "volume", "v", nil, "mount a named volume (NAME:/PATH[:ro]) or a host path (/HOST/PATH:/PATH[:ro]) (repeatable)")
			fs.StringVar(&o.step, "step", "", "start from the state the cached step KEY left instead of an image (keys: plan, --metadata-file)")
			fs.StringVar(&o.platform, "platform", "", "the platform's image of a multi-platform image (os/arch[/variant]; default: the host's)")
			fs.StringArrayVar(&o.mountFlags, "mount", nil, "mount as docker run --mount does: type=volume|bind,source=S,target=/PATH[,readonly] (repeatable)")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				o.entrypointSet = fs.Changed("entrypoint")
				if len(args) == 0 && o.step == "" {
					return usageError{errors.New("run: want an image name")}
				}
				if o.step != "" {
					// No image: the arguments are the command.
					args = append([]string{""}, args...)
				}
				var err error
				if o.networkMode, err = buildflags.ParseNetwork(o.network); err != nil {
					return usageError{fmt.Errorf("run: %w", err)}
				}
				if o.mounts, err = parseMounts(o.volumes, o.mountFlags); err != nil {
					return usageError{err}
				}
				name, cmd := args[0], args[1:]
				if len(cmd) > 0 && cmd[0] == "--" {
					cmd = cmd[1:]
				}
				err = runContainer(ctx, o, name, cmd, os.Stdin, stdout, stderr)
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

// parseMounts parses the -v values, then the --mount values.
func parseMounts(volumes, mounts []string) ([]container.MountSpec, error) {
	var out []container.MountSpec
	for _, v := range volumes {
		m, err := container.ParseVolumeFlag(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range mounts {
		m, err := container.ParseMountFlag(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, container.CheckTargets(out)
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
func runContainer(ctx context.Context, o *runOptions, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
	want, err := parsePlatformFlag("run", o.platform)
	if err != nil {
		return err
	}
	s, err := openStore(*o.root)
	if err != nil {
		return err
	}
	// Held shared, like a build: prune waits until the container is gone.
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	kind, err := session.ParseSnapshotterKind(o.snapshotter)
	if err != nil {
		return usageError{err}
	}
	root, err := session.OpenRoot(s)
	if err != nil {
		return err
	}
	snap, err := root.Snapshotter(kind, func(msg string) { fmt.Fprintf(stderr, "minibuild: %s\n", msg) })
	if err != nil {
		return err
	}
	c := container.Options{Store: s, Snapshotter: snap, Executor: root.Executor(o.runtime), Image: name, Cmd: cmd,
		Env: o.env, LookupEnv: os.LookupEnv, User: o.user, Workdir: o.workdir, Network: o.networkMode,
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Mounts: o.mounts, Volumes: volume.At(rootdir.At(s.Root())), Platform: want}
	if o.entrypointSet {
		c.Entrypoint = &o.entrypoint
	}
	if o.step != "" {
		key, err := digest.Parse(o.step)
		if err != nil {
			return usageError{fmt.Errorf("run --step %q: not a key (sha256:…): %w", o.step, err)}
		}
		from, err := root.StepImage(key)
		if err != nil {
			return err
		}
		c.From, c.Image = &from, "step "+o.step
	}
	if o.diff {
		c.Diff = stdout
	}
	err = container.Run(ctx, c)
	var exitErr *executor.ExitError
	var argErr *container.ArgumentError
	switch {
	case errors.As(err, &exitErr):
		return containerExit{code: exitErr.Code}
	case errors.As(err, &argErr):
		return usageError{err}
	}
	return err
}
