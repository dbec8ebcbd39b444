package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/rootfs"
	digest "github.com/opencontainers/go-digest"
)

// stepPlan is what a step will do, worked out before the cache is asked.
type stepPlan struct {
	key       cache.KeyInput
	createdBy string
	// apply changes the stage's config and scope; it runs on a hit and on
	// a miss alike, after the step.
	apply func(*stage)
	// change makes the step's filesystem change in a rootfs; nil for a
	// metadata-only step.
	change func(ctx context.Context, root *rootfs.Root) error
	// clamp clamps mtimes to the epoch instead of setting them (RUN).
	clamp bool
	// runs says the change runs a process of the stage's platform (RUN).
	runs bool
	// vars, when set, are the variable values the step sees (RUN's whole
	// environment), recorded to name the one that changed.
	vars map[string]string
	// keyLater, when set, completes key (a COPY's sources) and must run
	// before key is used: before the lookup, or, when the step is sure to
	// miss, after change ran with hashWhileCopying, which makes change
	// leave the digests of what it copied, so the files are read once.
	keyLater         func(ctx context.Context) error
	hashWhileCopying func()
	// from is the identity of the filesystem a COPY --from reads (or of
	// those a RUN's bind mounts read).
	from digest.Digest
	// mounts are a RUN's mounts as resolved, for the step's result.
	mounts []StepMount
	// process is a RUN's environment, user and working directory.
	process struct {
		Env           []string
		User, Workdir string
	}
	// inputs summarizes what went into the key, for the cache entry; it
	// must be called once the key is complete.
	inputs func() *cache.Inputs
}

// canonical is the text of an expanded instruction that goes into its key:
// the keyword and the JSON of its fields (line numbers and the original
// text are unexported, so moving a line does not change the key).
func canonical(inst dockerfile.Instruction) string {
	j, err := json.Marshal(inst)
	if err != nil {
		return inst.Keyword() + " " + inst.Text()
	}
	return inst.Keyword() + " " + string(j)
}

// plan works out the key, history text, config change and filesystem
// change of one expanded instruction.
func (b *build) plan(ctx context.Context, s *stage, inst dockerfile.Instruction) (*stepPlan, error) {
	p := &stepPlan{key: cache.KeyInput{Parent: s.key, Platform: platform.Format(s.platform), Instruction: canonical(inst)}}
	switch in := inst.(type) {
	case *dockerfile.EnvInstruction:
		p.createdBy = "ENV " + joinPairs(in.Pairs)
		p.apply = func(s *stage) {
			s.seq++
			if s.envSeq == nil {
				s.envSeq = map[string]int{}
			}
			for _, kv := range in.Pairs {
				s.img.Config.Env = setEnv(s.img.Config.Env, kv.Key, kv.Value)
				s.envSeq[kv.Key] = s.seq
			}
		}
	case *dockerfile.LabelInstruction:
		p.createdBy = "LABEL " + joinPairs(in.Pairs)
		p.apply = func(s *stage) {
			if s.img.Config.Labels == nil {
				s.img.Config.Labels = map[string]string{}
			}
			for _, kv := range in.Pairs {
				s.img.Config.Labels[kv.Key] = kv.Value
			}
		}
	case *dockerfile.ArgInstruction:
		p.createdBy = "ARG " + b.argText(in)
		p.apply = func(s *stage) { b.declareArgs(s, in) }
	case *dockerfile.CmdInstruction:
		args := b.withShell(s, in.Command, in.PrependShell)
		p.createdBy = fmt.Sprintf("CMD %q", args)
		p.apply = func(s *stage) {
			s.img.Config.Cmd = args
			s.img.Config.ArgsEscaped = true //nolint:staticcheck // Docker sets it for compatibility
			s.cmdSet = true
		}
	case *dockerfile.EntrypointInstruction:
		args := b.withShell(s, in.Command, in.PrependShell)
		p.createdBy = fmt.Sprintf("ENTRYPOINT %q", args)
		p.apply = func(s *stage) {
			s.img.Config.Entrypoint = args
			if !s.cmdSet {
				s.img.Config.Cmd = nil
			}
		}
	case *dockerfile.ExposeInstruction:
		ports, err := parsePorts(in.Ports)
		if err != nil {
			return nil, err
		}
		p.createdBy = fmt.Sprintf("EXPOSE map[%s]", strings.Join(ports, ":{} ")+":{}")
		p.apply = func(s *stage) {
			if s.img.Config.ExposedPorts == nil {
				s.img.Config.ExposedPorts = map[string]struct{}{}
			}
			for _, port := range ports {
				s.img.Config.ExposedPorts[port] = struct{}{}
			}
		}
	case *dockerfile.UserInstruction:
		p.createdBy = "USER " + in.User
		p.apply = func(s *stage) { s.img.Config.User = in.User }
	case *dockerfile.VolumeInstruction:
		if len(in.Paths) == 0 {
			return nil, fmt.Errorf("VOLUME specified can not be an empty string")
		}
		p.createdBy = fmt.Sprintf("VOLUME %v", in.Paths)
		p.apply = func(s *stage) {
			if s.img.Config.Volumes == nil {
				s.img.Config.Volumes = map[string]struct{}{}
			}
			for _, v := range in.Paths {
				if strings.TrimSpace(v) == "" {
					continue
				}
				s.img.Config.Volumes[v] = struct{}{}
			}
		}
	case *dockerfile.StopSignalInstruction:
		if err := checkSignal(in.Signal); err != nil {
			return nil, err
		}
		p.createdBy = "STOPSIGNAL " + in.Signal
		p.apply = func(s *stage) { s.img.Config.StopSignal = in.Signal }
	case *dockerfile.ShellInstruction:
		p.createdBy = fmt.Sprintf("SHELL %v", in.Shell)
		p.apply = func(s *stage) { s.img.Config.Shell = append([]string(nil), in.Shell...) }
	case *dockerfile.MaintainerInstruction:
		p.createdBy = "MAINTAINER " + in.Maintainer
		p.apply = func(s *stage) { s.img.Author = in.Maintainer }
	case *dockerfile.HealthcheckInstruction:
		h := &HealthConfig{Test: in.Test, Interval: in.Interval, Timeout: in.Timeout,
			StartPeriod: in.StartPeriod, StartInterval: in.StartInterval, Retries: in.Retries}
		if in.None {
			h = &HealthConfig{Test: []string{"NONE"}}
		}
		p.createdBy = fmt.Sprintf("HEALTHCHECK %+v", *h)
		p.apply = func(s *stage) {
			c := *h
			c.Test = append([]string(nil), h.Test...)
			s.img.Config.Healthcheck = &c
		}
	case *dockerfile.OnbuildInstruction:
		p.createdBy = "ONBUILD " + in.Expression
		p.apply = func(s *stage) { s.img.Config.OnBuild = append(s.img.Config.OnBuild, in.Expression) }
	case *dockerfile.WorkdirInstruction:
		wd := path.Clean(path.Join(s.img.Config.WorkingDir, in.Path))
		if path.IsAbs(in.Path) {
			wd = path.Clean(in.Path)
		}
		if !path.IsAbs(wd) {
			wd = "/" + wd
		}
		user := s.img.Config.User
		p.createdBy = "WORKDIR " + wd
		p.apply = func(s *stage) { s.img.Config.WorkingDir = wd }
		if wd != "/" {
			p.change = func(ctx context.Context, root *rootfs.Root) error {
				uid, gid := 0, 0
				if user != "" {
					u, err := root.LookupUser(user, false)
					if err != nil {
						return err
					}
					uid, gid = u.UID, u.GID
				}
				_, err := root.MkdirAll(wd, 0o755, uid, gid)
				return err
			}
		}
	case *dockerfile.CopyInstruction:
		return b.planCopy(ctx, s, in, p)
	case *dockerfile.RunInstruction:
		return b.planRun(s, in, p)
	default:
		return nil, fmt.Errorf("%s is not supported by minibuild yet", inst.Keyword())
	}
	return p, nil
}

// withShell turns a shell-form command into argv with the stage's SHELL.
func (b *build) withShell(s *stage, cmd []string, prependShell bool) []string {
	if !prependShell {
		return append([]string(nil), cmd...)
	}
	return append(s.shell(), strings.Join(cmd, " "))
}

// shell is the stage's SHELL, or Docker's default.
func (s *stage) shell() []string {
	if len(s.img.Config.Shell) > 0 {
		return append([]string(nil), s.img.Config.Shell...)
	}
	return []string{"/bin/sh", "-c"}
}

func joinPairs(kvs []dockerfile.KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, " ")
}

// setEnv sets key in env, replacing an earlier value in place.
func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// parsePorts normalizes EXPOSE arguments to "port/proto", expanding ranges.
func parsePorts(specs []string) ([]string, error) {
	var out []string
	for _, spec := range specs {
		port, proto, _ := strings.Cut(spec, "/")
		proto = strings.ToLower(proto)
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, fmt.Errorf("invalid proto %q in EXPOSE %s", proto, spec)
		}
		lo, hi, isRange := strings.Cut(port, "-")
		start, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("invalid port %q in EXPOSE", spec)
		}
		end := start
		if isRange {
			if end, err = strconv.ParseUint(hi, 10, 16); err != nil || end < start {
				return nil, fmt.Errorf("invalid port range %q in EXPOSE", spec)
			}
		}
		for n := start; n <= end; n++ {
			out = append(out, fmt.Sprintf("%d/%s", n, proto))
		}
	}
	sort.Strings(out)
	return out, nil
}
