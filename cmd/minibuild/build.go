package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/minibuild/minibuild/binfmt"
	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/buildflags"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/progress"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/store"
	"github.com/spf13/pflag"
)

// buildFlags are the flags of "minibuild build".
type buildFlags struct {
	root         *string
	file         string
	tags         []string
	outputs      []string
	noCache      bool
	progress     string
	metadataFile string
	report       string // --report FILE.html (build only)
	platform     string
	jobs         int
	epoch        string
	buildArgs    []string
	target       string
	snapshotter  string
	runtime      string
	network      string
	contexts     []string
	cacheMode    string
	maxUnpack    int64
	secrets      []string
	onError      string // build only: fail or shell
	ssh          []string
	reg          *registryFlags // registries, remote cache, compression (build only)
}

func buildCommand() command {
	return command{
		name:    "build",
		summary: "Build an image from a Dockerfile (the default command)",
		usage:   "minibuild [build] [flags] [CONTEXT]",
		example: `  minibuild -t app:dev .                                  # build ./Dockerfile, tag app:dev in the store
  minibuild -f docker/Dockerfile -t app:dev src            # another Dockerfile, context src/
  minibuild -t app:dev -o type=oci,dest=out .              # also export an OCI image layout to out/
  minibuild -t app:dev -o type=oci,dest=app.tar,tar=true . # ... as a tar archive
  minibuild -o type=local,dest=rootfs .                    # write the final filesystem to rootfs/
  minibuild --metadata-file build.json --progress plain .  # record each step's cache result`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			f := registerBuildFlags(fs)
			fs.StringVar(&f.onError, "on-error", "fail", "when a RUN fails: fail, or shell (on a terminal, a shell in the state it ran on, with its env, user and workdir)")
			fs.StringVar(&f.report, "report", "", "after the build, draw its layer stack and cache cascade as a self-contained HTML page in FILE")
			f.reg = registerRegistryFlags(fs)
			prof := addProfileFlag(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return withCPUProfile(*prof, func() error { return runBuild(ctx, f, args, stdout, stderr) })
			}
		},
	}
}

// registerBuildFlags registers the flags build and plan share.
func registerBuildFlags(fs *pflag.FlagSet) *buildFlags {
	f := &buildFlags{root: addRoot(fs)}
	fs.StringVarP(&f.file, "file", "f", "", "Dockerfile path (default CONTEXT/Dockerfile)")
	fs.StringArrayVarP(&f.tags, "tag", "t", nil, "name the image NAME[:TAG] in the store (repeatable)")
	fs.StringArrayVarP(&f.outputs, "output", "o", nil, "export: type=oci,dest=DIR[,tar=true] or type=local,dest=DIR (repeatable)")
	fs.BoolVar(&f.noCache, "no-cache", false, "rebuild every step")
	fs.StringVar(&f.progress, "progress", "auto", "progress output: auto (a live view on a terminal, else plain), tty, plain, json or quiet")
	fs.StringVar(&f.metadataFile, "metadata-file", "", "write the build's result and each step's cache result as JSON to FILE")
	fs.StringVar(&f.platform, "platform", platform.Format(platform.Host()), "platforms to build, comma-separated (os/arch[/variant]); several give an image index")
	fs.IntVar(&f.jobs, "jobs", 0, "stages run at once (0: the number of CPUs); results do not depend on it")
	fs.StringVar(&f.epoch, "source-date-epoch", "", "timestamp (Unix seconds) for every time in the image (default $SOURCE_DATE_EPOCH, else 0)")
	fs.StringArrayVar(&f.buildArgs, "build-arg", nil, "set a build argument KEY=VALUE, or KEY to take it from the environment (repeatable)")
	fs.StringVar(&f.target, "target", "", "stage to build (default: the last)")
	fs.StringVar(&f.snapshotter, "snapshotter", "auto", "rootfs for steps: overlay, native or auto (overlay when it can be mounted)")
	fs.StringVar(&f.runtime, "runtime", "", "run RUN steps with an OCI runtime (runc, crun or a path) instead of the built-in executor")
	fs.StringVar(&f.network, "network", "host", "network for RUN steps: host or none")
	fs.StringArrayVar(&f.contexts, "build-context", nil, "NAME=oci-layout://DIR[:TAG]: FROM NAME uses that OCI image layout (repeatable)")
	fs.Int64Var(&f.maxUnpack, "max-unpack-bytes", 0, "stop a layer or ADD archive that expands past this many bytes (decompression bombs); 0: 16 GiB")
	fs.StringArrayVar(&f.secrets, "secret", nil, "a secret for RUN --mount=type=secret: id=ID[,src=FILE|env=VAR] (repeatable; never stored)")
	fs.StringArrayVar(&f.ssh, "ssh", nil, "an ssh agent for RUN --mount=type=ssh: default|ID[=SOCKET] (default: $SSH_AUTH_SOCK; repeatable)")
	fs.StringVar(&f.cacheMode, "cache-mode", "cascade", "cascade: a miss invalidates every later step (Docker's rule); content: a rebuilt step that changed nothing lets later steps hit again")
	return f
}

// runBuild wires the packages together for one build.
func runBuild(ctx context.Context, f *buildFlags, args []string, stdout, stderr io.Writer) error {
	if f.onError != "fail" && f.onError != "shell" {
		return usageError{fmt.Errorf("invalid --on-error %q: want fail or shell", f.onError)}
	}
	in, err := readInputs(f, args, "build")
	if err != nil {
		return err
	}
	s, err := openStore(*f.root)
	if err != nil {
		return err
	}
	// A build holds the store's shared lock: builds run side by side, and
	// whatever removes content (prune, repair) waits for them.
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	root, err := session.OpenRoot(s)
	if err != nil {
		return err
	}
	t := session.Tools{Store: s, Cache: root.Cache, Results: root.Results(), Executor: root.Executor(f.runtime), Stdout: stdout,
		CacheMounts: root.CacheMounts(), CanRun: binfmt.Check}
	if t.Context, err = root.Context(in.ctxDir, in.dfPath, true); err != nil {
		return err
	}
	defer t.Context.Close()
	r := progress.New(in.progress, stderr)
	defer r.Close() // after Finish it does nothing; on failure it clears the live view
	t.Reporter = r
	note := func(msg string) { r.Report(builder.Warning{Message: msg}) }
	if t.Snapshotter, err = root.Snapshotter(in.snapshotter, note); err != nil {
		return err
	}
	defer root.EmptyTrash()
	if t.Registry, err = registry.New(registry.Options{Insecure: f.reg.insecure}); err != nil {
		return err
	}
	reportWarnings(r, in.df)
	began := time.Now()
	res, err := session.Build(ctx, session.Options{Tools: t, Settings: in.settings})
	if err != nil {
		if f.onError == "shell" {
			r.Close() // the live view ends before the shell starts
			return debugFailedRun(ctx, err, s, root, t.Snapshotter, f.runtime, stderr)
		}
		return err
	}
	r.Finish(res, time.Since(began))
	if in.progress == progress.Quiet {
		fmt.Fprintln(stdout, res.Manifest.Digest)
	}
	return nil
}

// reportWarnings reports the parser's warnings about the Dockerfile.
func reportWarnings(r builder.Reporter, df *dockerfile.Dockerfile) {
	for _, w := range df.Warnings {
		r.Report(builder.Warning{Line: w.Line, Message: w.Msg})
	}
}

// parseBuildFlags turns flag values into a session's settings, checking them.
func parseBuildFlags(f *buildFlags) (session.Settings, progress.Mode, error) {
	var set session.Settings
	b := &set.Build
	plats, err := buildflags.ParsePlatforms(f.platform)
	if err != nil {
		return set, "", err
	}
	b.Platform = plats[0]
	if len(plats) > 1 {
		b.Platforms = plats
	}
	if f.jobs < 0 {
		return set, "", fmt.Errorf("invalid --jobs %d: want 0 (the number of CPUs) or more", f.jobs)
	}
	b.Jobs = f.jobs
	if b.Epoch, err = buildflags.ParseEpoch(f.epoch, os.Getenv("SOURCE_DATE_EPOCH")); err != nil {
		return set, "", err
	}
	for _, t := range f.tags {
		if _, err := store.NormalizeName(t); err != nil {
			return set, "", fmt.Errorf("invalid tag %q: %w", t, err)
		}
	}
	set.Tags = f.tags
	if b.BuildArgs, err = buildflags.ParseBuildArgs(f.buildArgs, os.LookupEnv); err != nil {
		return set, "", err
	}
	mode, err := progress.ParseMode(f.progress)
	if err != nil {
		return set, "", err
	}
	if b.Network, err = buildflags.ParseNetwork(f.network); err != nil {
		return set, "", err
	}
	b.NoCache, b.Target = f.noCache, f.target
	if f.maxUnpack < 0 {
		return set, "", fmt.Errorf("invalid --max-unpack-bytes %d", f.maxUnpack)
	}
	b.MaxUnpackBytes = f.maxUnpack
	if b.CacheMode, err = builder.ParseCacheMode(f.cacheMode); err != nil {
		return set, "", fmt.Errorf("invalid --cache-mode %q: want cascade or content", f.cacheMode)
	}
	if b.Contexts, err = buildflags.ParseContexts(f.contexts); err != nil {
		return set, "", err
	}
	for _, out := range f.outputs {
		o, err := buildflags.ParseOutput(out)
		if err != nil {
			return set, "", err
		}
		set.Outputs = append(set.Outputs, o)
	}
	set.MetadataFile, set.ReportFile = f.metadataFile, f.report
	for _, v := range f.secrets {
		src, err := buildflags.ParseSecret(v)
		if err != nil {
			return set, "", err
		}
		set.Secrets = append(set.Secrets, src)
	}
	for _, v := range f.ssh {
		src, err := buildflags.ParseSSH(v, os.LookupEnv)
		if err != nil {
			return set, "", err
		}
		set.SSH = append(set.SSH, src)
	}
	if f.reg != nil {
		if err := f.reg.apply(&set); err != nil {
			return set, "", err
		}
	}
	return set, mode, set.Check()
}

// inputs are what build and plan read before they touch the store.
type inputs struct {
	settings       session.Settings
	progress       progress.Mode
	snapshotter    session.SnapshotterKind
	ctxDir, dfPath string
	df             *dockerfile.Dockerfile
}

// readInputs checks the flags and the CONTEXT argument and parses the
// Dockerfile, for the command cmd.
func readInputs(f *buildFlags, args []string, cmd string) (inputs, error) {
	var in inputs
	if len(args) > 1 {
		if info, err := os.Stat(args[0]); err != nil || !info.IsDir() {
			return in, usageError{fmt.Errorf("unknown command %q (see 'minibuild --help')", args[0])}
		}
		return in, usageError{fmt.Errorf("%s: want at most one CONTEXT directory, got %d arguments", cmd, len(args))}
	}
	in.ctxDir = "."
	if len(args) == 1 {
		in.ctxDir = args[0]
	}
	var err error
	if in.settings, in.progress, err = parseBuildFlags(f); err != nil {
		return in, usageError{err}
	}
	if in.snapshotter, err = session.ParseSnapshotterKind(f.snapshotter); err != nil {
		return in, usageError{err}
	}
	if info, err := os.Stat(in.ctxDir); err != nil || !info.IsDir() {
		return in, fmt.Errorf("build context %s: not a directory", in.ctxDir)
	}
	dfName := f.file
	in.dfPath = f.file
	if in.dfPath == "" {
		in.dfPath, dfName = filepath.Join(in.ctxDir, "Dockerfile"), "Dockerfile"
	}
	if in.df, err = readDockerfile(in.dfPath, dfName); err != nil {
		return in, err
	}
	in.settings.Build.Dockerfile = in.df
	in.settings.Build.DockerfilePath, err = filepath.Abs(in.dfPath)
	return in, err
}

// readDockerfile parses the Dockerfile at path, naming it name in errors.
func readDockerfile(path, name string) (*dockerfile.Dockerfile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Dockerfile: %w", err)
	}
	defer fh.Close()
	return dockerfile.Parse(fh, name)
}
