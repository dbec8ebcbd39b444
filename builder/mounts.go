package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/snapshot"
	digest "github.com/opencontainers/go-digest"
)

// runMount is one RUN --mount with the stage's defaults filled in.
type runMount struct {
	dockerfile.Mount
	target string // absolute and clean; "" for a secret exposed only as a variable
	id     string // the cache, secret or ssh id the mount resolves to
	// A bind reads the context (sources) or, with from=, a stage or an
	// image (chain, whose filesystem identity is from).
	sources []copySource
	chain   []snapshot.Layer
	from    digest.Digest
	// seedID tells a seeded cache's directory from the unseeded one.
	seedID string
}

// StepMount is one RUN --mount as the build resolved it: what the
// metadata file and the report show, and (with From holding the
// filesystem identity of the stage or image) what goes into the step's
// key. It never holds a secret's value or an agent's socket.
type StepMount struct {
	Type     dockerfile.MountType `json:"type"`
	Target   string               `json:"target,omitempty"`
	Source   string               `json:"source,omitempty"`
	From     string               `json:"from,omitempty"`
	ReadOnly bool                 `json:"readonly,omitempty"`
	ID       string               `json:"id,omitempty"`
	Sharing  dockerfile.Sharing   `json:"sharing,omitempty"`
	Size     int64                `json:"size,omitempty"`
	Mode     *uint32              `json:"mode,omitempty"`
	UID      *uint32              `json:"uid,omitempty"`
	GID      *uint32              `json:"gid,omitempty"`
	Required bool                 `json:"required,omitempty"`
	Env      string               `json:"env,omitempty"`
}

// mountExtra opens the key's Extra field that holds one mount.
const mountExtra = "mount="

// planMounts resolves a RUN's mounts against the stage (the working
// directory wd for relative targets, earlier stages and images for from=)
// and adds each one to the step's key: its resolved form, and for a bind
// of the context the content of what it exposes, like a COPY source.
func (b *build) planMounts(s *stage, mounts []dockerfile.Mount, wd string, p *stepPlan) ([]runMount, error) {
	var out []runMount
	var froms []string
	sshIndex := 0
	for _, m := range mounts {
		rm := runMount{Mount: m}
		if m.Target != "" {
			rm.target = path.Clean(m.Target)
			if !path.IsAbs(rm.target) {
				rm.target = path.Join("/", wd, rm.target)
			}
			if rm.target == "/" {
				return nil, fmt.Errorf("--mount: invalid mount target %q", m.Target)
			}
		}
		rec := StepMount{Type: m.Type, Target: rm.target, ReadOnly: m.ReadOnly, Mode: m.Mode, UID: m.UID, GID: m.GID}
		switch m.Type {
		case dockerfile.MountBind:
			rec.Source = path.Clean("/" + m.Source)
			if err := b.planBindSource(s, &rm); err != nil {
				return nil, err
			}
			if rm.from != "" {
				froms = append(froms, rm.from.String())
			}
		case dockerfile.MountCache:
			rm.id = m.ID
			if rm.id == "" {
				rm.id = path.Clean(m.Target)
			}
			rec.ID, rec.Sharing = rm.id, m.Sharing
			// As in BuildKit, from= names what a new cache directory starts
			// with (source= its path there); without from= it starts empty.
			if m.From == "" && path.Clean("/"+m.Source) != "/" {
				// BuildKit's run fails the same way: the path is looked
				// up in the empty directory the cache starts as.
				return nil, fmt.Errorf("--mount=type=cache,source=%s: no such file or directory: source= is a path of from=, and without from= the cache starts empty", m.Source)
			}
			if m.From != "" {
				rec.Source = path.Clean("/" + m.Source)
				if err := b.planBindSource(s, &rm); err != nil {
					return nil, err
				}
				// One directory per seed, as BuildKit keeps them (the id
				// and the source's identity, which the key holds too).
				rm.seedID = " (from " + rm.from.Encoded()[:12] + ":" + rec.Source + ")"
			}
		case dockerfile.MountTmpfs:
			rec.Size = m.Size
		case dockerfile.MountSecret:
			rm.id = m.ID
			if m.Source != "" {
				rm.id = m.Source
			}
			if rm.id == "" {
				rm.id = path.Base(rm.target)
			}
			if rm.target == "" && m.Env == nil {
				rm.target = "/run/secrets/" + path.Base(rm.id)
			}
			rec.ID, rec.Target, rec.Required = rm.id, rm.target, m.Required
			if m.Env != nil {
				rec.Env = *m.Env
				if *m.Env == "" {
					return nil, fmt.Errorf("--mount=type=secret,id=%s: env= needs a variable name", rm.id)
				}
			}
		case dockerfile.MountSSH:
			if m.Source != "" {
				return nil, errors.New("--mount=type=ssh: ssh does not support source")
			}
			rm.id = m.ID
			if rm.id == "" {
				rm.id = "default"
			}
			if rm.target == "" {
				rm.target = "/run/buildkit/ssh_agent." + strconv.Itoa(sshIndex)
			}
			sshIndex++
			rec.ID, rec.Target, rec.Required = rm.id, rm.target, m.Required
		default:
			return nil, fmt.Errorf("--mount: unsupported mount type %q", m.Type)
		}
		rec.From = m.From
		p.mounts = append(p.mounts, rec)
		if rm.from != "" {
			rec.From = rm.from.String()
		}
		j, err := json.Marshal(rec)
		if err != nil {
			return nil, err
		}
		p.key.Extra = append(p.key.Extra, mountExtra+string(j))
		for _, cs := range rm.sources {
			keys, err := b.sourceKeys(context.Background(), cs)
			if err != nil {
				return nil, err
			}
			p.key.Sources = append(p.key.Sources, keys...)
		}
		out = append(out, rm)
	}
	if len(froms) > 0 {
		p.from = digest.FromString(strings.Join(froms, "\n"))
	}
	return out, nil
}

// planBindSource finds what a bind (or the seed of a cache) exposes: the
// context's source path, or the chain of the stage or image from= names.
func (b *build) planBindSource(s *stage, rm *runMount) error {
	if rm.From != "" {
		chain, identity, err := b.sourceImage(s, rm.From)
		if err != nil {
			return fmt.Errorf("--mount from=%s: %w", rm.From, err)
		}
		rm.chain, rm.from = chain, identity
		return nil
	}
	src := strings.TrimPrefix(path.Clean("/"+rm.Source), "/")
	if src == "" {
		src = "."
	}
	sources, err := b.contextSources(src, &copier{in: &dockerfile.CopyInstruction{}})
	if err != nil {
		return fmt.Errorf("--mount source=%s: %w", rm.Source, err)
	}
	if len(sources) != 1 {
		return fmt.Errorf("--mount source=%s: names %d files, want one file or directory", rm.Source, len(sources))
	}
	rm.sources = sources
	return nil
}

// mounted is what a RUN's mounts need while its process runs.
type mounted struct {
	mounts []executor.Mount
	env    []string // secrets exposed as variables, SSH_AUTH_SOCK
	undo   []func() error
}

// release undoes what mountAll did, last first.
func (md *mounted) release() error {
	var errs []error
	for i := len(md.undo) - 1; i >= 0; i-- {
		errs = append(errs, md.undo[i]())
	}
	md.undo = nil
	return errors.Join(errs...)
}

// mountAll makes ready every mount of a step that runs: copies of the
// context for binds, rootfs of stages and images, cache directories,
// secrets, agent sockets. On an error it undoes what it did.
func (b *build) mountAll(ctx context.Context, ms []runMount) (_ *mounted, err error) {
	md := &mounted{}
	defer func() {
		if err != nil {
			err = errors.Join(err, md.release())
		}
	}()
	work := ""
	workDir := func() (string, error) {
		if work != "" {
			return work, nil
		}
		tmp := rootdir.At(b.tools.Store.Root()).Tmp()
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			return "", err
		}
		d, err := os.MkdirTemp(tmp, "mounts-")
		if err != nil {
			return "", err
		}
		work = d
		md.undo = append(md.undo, func() error { return os.RemoveAll(d) })
		return d, nil
	}
	for i, rm := range ms {
		switch rm.Type {
		case dockerfile.MountBind:
			src, err := b.bindSource(ctx, md, rm, workDir, i)
			if err != nil {
				return nil, err
			}
			md.mounts = append(md.mounts, executor.Mount{Type: executor.MountBind, Target: rm.target, Source: src, ReadOnly: rm.ReadOnly})
		case dockerfile.MountCache:
			dir, err := b.cacheDir(ctx, md, rm)
			if err != nil {
				return nil, err
			}
			md.mounts = append(md.mounts, executor.Mount{Type: executor.MountBind, Target: rm.target, Source: dir, ReadOnly: rm.ReadOnly})
		case dockerfile.MountTmpfs:
			md.mounts = append(md.mounts, executor.Mount{Type: executor.MountTmpfs, Target: rm.target, Size: rm.Size, ReadOnly: rm.ReadOnly})
		case dockerfile.MountSecret:
			v, ok := b.tools.Secrets.Secret(rm.id)
			if !ok {
				if rm.Required {
					return nil, fmt.Errorf("secret %s is required but was not given (--secret id=%s,src=FILE or env=VAR)", rm.id, rm.id)
				}
				continue
			}
			if rm.Env != nil {
				md.env = append(md.env, *rm.Env+"="+string(v))
			}
			if rm.target != "" {
				mode := os.FileMode(0o400)
				if rm.Mode != nil {
					mode = os.FileMode(*rm.Mode) & os.ModePerm
				}
				md.mounts = append(md.mounts, executor.Mount{Type: executor.MountFile, Target: rm.target, Data: v,
					Mode: mode, UID: u32(rm.UID), GID: u32(rm.GID), ReadOnly: true})
			}
		case dockerfile.MountSSH:
			if _, ok := b.tools.Secrets.Socket(rm.id); !ok {
				if rm.Required {
					return nil, fmt.Errorf("ssh agent %s is required but was not given (--ssh %s)", rm.id, rm.id)
				}
				// BuildKit sets the variable even so; the socket is absent.
				if !hasEnv(md.env, "SSH_AUTH_SOCK") {
					md.env = append(md.env, "SSH_AUTH_SOCK="+rm.target)
				}
				continue
			}
			dir, err := workDir()
			if err != nil {
				return nil, err
			}
			mode := os.FileMode(0o600)
			if rm.Mode != nil {
				mode = os.FileMode(*rm.Mode) & os.ModePerm
			}
			sock := filepath.Join(dir, "ssh-"+strconv.Itoa(i))
			stop, err := b.tools.Secrets.Forward(rm.id, sock, int(u32(rm.UID)), int(u32(rm.GID)), mode)
			if err != nil {
				return nil, err
			}
			md.undo = append(md.undo, stop)
			md.mounts = append(md.mounts, executor.Mount{Type: executor.MountBind, Target: rm.target, Source: sock})
			if !hasEnv(md.env, "SSH_AUTH_SOCK") {
				md.env = append(md.env, "SSH_AUTH_SOCK="+rm.target)
			}
		}
	}
	// Parents before children, whatever order the Dockerfile gave.
	sort.SliceStable(md.mounts, func(i, j int) bool {
		return strings.Count(md.mounts[i].Target, "/") < strings.Count(md.mounts[j].Target, "/")
	})
	return md, nil
}

// bindSource makes what a bind exposes ready on the host and returns its
// path: a throwaway copy of the context's source (so nothing outside
// .dockerignore's view is seen, and writes to an rw bind go nowhere), or
// the source path inside a throwaway rootfs of the stage or image.
func (b *build) bindSource(ctx context.Context, md *mounted, rm runMount, workDir func() (string, error), i int) (string, error) {
	if rm.chain != nil || rm.from != "" {
		m, err := b.tools.Snapshotter.Prepare(ctx, rm.chain)
		if err != nil {
			return "", fmt.Errorf("--mount from=%s: preparing rootfs: %w", rm.From, err)
		}
		md.undo = append(md.undo, m.Release)
		r, err := rootfs.Open(m.Root())
		if err != nil {
			return "", err
		}
		defer r.Close()
		src, err := r.HostPath(rm.Source)
		if err != nil {
			return "", fmt.Errorf("--mount from=%s,source=%s: %w", rm.From, rm.Source, err)
		}
		return src, nil
	}
	dir, err := workDir()
	if err != nil {
		return "", err
	}
	name := "bind-" + strconv.Itoa(i)
	r, err := rootfs.Open(dir)
	if err != nil {
		return "", err
	}
	defer r.Close()
	c := &copier{in: &dockerfile.CopyInstruction{}, dest: "/" + name, epoch: b.set.Epoch, maxBytes: b.set.MaxUnpackBytes}
	if err := c.copy(ctx, r, rm.sources); err != nil {
		return "", fmt.Errorf("--mount source=%s: %w", rm.Source, err)
	}
	// A source that is a symbolic link is followed inside the copy, never
	// to the host path it names.
	src, err := r.HostPath("/" + name)
	if err != nil {
		return "", fmt.Errorf("--mount source=%s: %w", rm.Source, err)
	}
	return src, nil
}

// u32 is *p, or 0 for nil.
func u32(p *uint32) uint32 {
	if p == nil {
		return 0
	}
	return *p
}

// cacheDir acquires a cache mount's directory, seeded on creation from
// the stage, image or context path the mount names with from= or source=.
func (b *build) cacheDir(ctx context.Context, md *mounted, rm runMount) (string, error) {
	if b.tools.CacheMounts == nil {
		return "", fmt.Errorf("--mount=type=cache,id=%s: no cache mount store is configured", rm.id)
	}
	// As in BuildKit, a cache seeded from= or source= is another directory
	// than the unseeded one of the same id, one per seed.
	req := CacheMountRequest{ID: rm.id + rm.seedID, Sharing: rm.Sharing, Mode: 0o755}
	if req.Sharing == "" {
		req.Sharing = dockerfile.SharingShared
	}
	if rm.Mode != nil {
		req.Mode = os.FileMode(*rm.Mode) & (os.ModePerm | os.ModeSticky | os.ModeSetuid | os.ModeSetgid)
	}
	req.UID, req.GID = int(u32(rm.UID)), int(u32(rm.GID))
	if rm.seedID != "" {
		req.Seed = func(ctx context.Context, dir string) error { return b.seed(ctx, rm, dir) }
	}
	dir, release, err := b.tools.CacheMounts.Acquire(ctx, req)
	if err != nil {
		return "", fmt.Errorf("--mount=type=cache,id=%s: %w", rm.id, err)
	}
	md.undo = append(md.undo, release)
	return dir, nil
}

// seed copies what a cache mount's from= and source= name into dir, a
// cache directory made new: the path in a stage or image (owners kept).
func (b *build) seed(ctx context.Context, rm runMount, dir string) error {
	dst, err := rootfs.Open(dir)
	if err != nil {
		return err
	}
	defer dst.Close()
	c := &copier{in: &dockerfile.CopyInstruction{}, dest: "/", destDir: true, epoch: b.set.Epoch, maxBytes: b.set.MaxUnpackBytes}
	return b.inSource(ctx, rm.chain, rm.From, func(src *rootfs.Root) error {
		sources, err := rootSources(src, []string{path.Clean("/" + rm.Source)}, c)
		if err != nil {
			return fmt.Errorf("from=%s: %w", rm.From, err)
		}
		return c.copy(ctx, dst, sources)
	})
}

// String describes the mount in one line, as the report lists it:
// "cache /var/cache/apt (id /var/cache/apt, sharing locked)".
func (m StepMount) String() string {
	s := string(m.Type)
	var opts []string
	switch m.Type {
	case dockerfile.MountBind:
		src := m.Source
		if m.From != "" {
			src = m.From + ":" + src
		}
		s += " " + src + " at " + m.Target
	case dockerfile.MountSecret:
		s += " " + m.ID
		if m.Target != "" {
			s += " at " + m.Target
		}
		if m.Env != "" {
			opts = append(opts, "env "+m.Env)
		}
	default:
		s += " " + m.Target
		if m.ID != "" && m.ID != m.Target {
			opts = append(opts, "id "+m.ID)
		}
	}
	if m.Sharing != "" {
		opts = append(opts, "sharing "+string(m.Sharing))
	}
	if m.Size > 0 {
		opts = append(opts, "size "+strconv.FormatInt(m.Size, 10))
	}
	if m.Type == dockerfile.MountBind && !m.ReadOnly {
		opts = append(opts, "rw")
	}
	if m.Required {
		opts = append(opts, "required")
	}
	if len(opts) > 0 {
		s += " (" + strings.Join(opts, ", ") + ")"
	}
	return s
}
