package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootfs"
)

// planRun works out a RUN step: its argv, environment and key.
func (b *build) planRun(s *stage, in *dockerfile.RunInstruction, p *stepPlan) (*stepPlan, error) {
	if in.Security == "insecure" {
		return nil, errors.New("RUN --security=insecure is not allowed: minibuild grants no security.insecure entitlement (the step would run with every capability)")
	}
	if b.tools.Executor == nil && !b.set.DryRun {
		return nil, errors.New("RUN needs an executor, and none is configured")
	}
	network := b.set.Network
	switch in.Network {
	case "none":
		network = executor.NetworkNone
	case "host":
		network = executor.NetworkHost
	}
	if network == "" {
		network = executor.NetworkHost
	}
	args, stdin := runArgs(s, in)
	env := append([]string(nil), s.img.Config.Env...)
	for _, kv := range s.argEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env = setEnv(env, k, v)
	}
	if !hasEnv(env, "PATH") {
		env = append(env, DefaultPathEnv)
	}
	user, wd := s.img.Config.User, s.img.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	keyEnv := append([]string(nil), env...)
	sort.Strings(keyEnv)
	// Proxy args reach the process without an ARG, and stay out of the key.
	for k, v := range b.set.BuildArgs {
		if proxyArgs[k] && !hasEnv(env, k) {
			env = append(env, k+"="+v)
		}
	}
	shell, _ := json.Marshal(s.shell())
	p.runs = true
	p.key.Instruction = "RUN " + mustJSON(args)
	p.key.Env = keyEnv
	p.vars = map[string]string{}
	for _, kv := range keyEnv {
		k, v, _ := strings.Cut(kv, "=")
		p.vars[k] = v
	}
	p.key.Extra = []string{"shell=" + string(shell), "user=" + user, "workdir=" + wd, "network=" + string(keyNetwork(b.set.Network, network))}
	mounts, err := b.planMounts(s, in.Mounts, wd, p)
	if err != nil {
		return nil, err
	}
	p.createdBy = "RUN " + strings.Join(args, " ")
	p.process.Env, p.process.User, p.process.Workdir = env, user, wd
	p.clamp = true
	text := clipBytes(in.Text(), 80)
	p.change = func(ctx context.Context, root *rootfs.Root) error {
		spec := user
		if spec == "" {
			spec = "0"
		}
		u, err := root.LookupUser(spec, false)
		if err != nil {
			return fmt.Errorf("USER %s: %w", user, err)
		}
		if _, err := root.MkdirAll(wd, 0o755, 0, 0); err != nil {
			return fmt.Errorf("creating working directory %s: %w", wd, err)
		}
		gids := supplementaryGroups(u)
		idx := s.current
		md, err := b.mountAll(ctx, mounts)
		if err != nil {
			return err
		}
		defer md.release()
		env := append([]string(nil), env...)
		for _, kv := range md.env {
			k, v, _ := strings.Cut(kv, "=")
			env = setEnv(env, k, v)
		}
		var in io.Reader
		if stdin != "" {
			in = strings.NewReader(stdin)
		}
		err = b.tools.Executor.Run(ctx, root.Dir(), executor.Process{
			Args: args, Env: env, Cwd: wd, Stdin: in,
			UID: uint32(u.UID), GID: uint32(u.GID), AdditionalGIDs: gids,
			Stdout:  &outputWriter{r: s.rep, index: idx, stream: "stdout"},
			Stderr:  &outputWriter{r: s.rep, index: idx, stream: "stderr"},
			Network: network,
			Mounts:  md.mounts,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", text, err)
		}
		return nil
	}
	return p, nil
}

// keyNetwork is the network a RUN's key records: as the build's setting
// spelled it when the step did not choose another (so keys made before RUN
// --network existed stay the same).
func keyNetwork(setting, step executor.NetworkMode) executor.NetworkMode {
	if step == executor.NetworkHost && setting == "" {
		return ""
	}
	return step
}

// supplementaryGroups are the process's groups: the primary group first,
// as BuildKit gives them (so `id` prints groups=GID), then the user's
// other groups from /etc/group.
func supplementaryGroups(u rootfs.User) []uint32 {
	gids := []uint32{uint32(u.GID)}
	for _, g := range u.AdditionalGIDs {
		if g != u.GID {
			gids = append(gids, uint32(g))
		}
	}
	return gids
}

// runArgs is the argv of a RUN, and what its standard input holds: exec
// form as written, shell form through the stage's SHELL. A heredoc that is
// the whole command is the script: run by the shell, or, when it starts
// with "#!", by that interpreter, which reads it from /dev/stdin (BuildKit
// runs such a script as a file; the interpreter sees the same program).
func runArgs(s *stage, in *dockerfile.RunInstruction) ([]string, string) {
	if !in.PrependShell {
		return append([]string(nil), in.Command...), ""
	}
	cmd := strings.Join(in.Command, " ")
	if len(in.Heredocs) == 1 && strings.HasPrefix(strings.TrimSpace(cmd), "<<") &&
		len(strings.Fields(cmd)) == 1 {
		script := in.Heredocs[0].Content
		if first, _, _ := strings.Cut(script, "\n"); strings.HasPrefix(first, "#!") {
			if interp := strings.Fields(first[2:]); len(interp) > 0 {
				return append(interp, "/dev/stdin"), script
			}
		}
		return append(s.shell(), script), ""
	}
	for _, h := range in.Heredocs {
		cmd += "\n" + h.Content + h.Name
	}
	return append(s.shell(), cmd), ""
}

func mustJSON(v any) string {
	j, _ := json.Marshal(v)
	return string(j)
}

// outputWriter turns a RUN's output into StepOutput events.
type outputWriter struct {
	r      Reporter
	index  int
	stream string
}

func (w *outputWriter) Write(p []byte) (int, error) {
	w.r.Report(StepOutput{Index: w.index, Stream: w.stream, Data: append([]byte(nil), p...)})
	return len(p), nil
}
