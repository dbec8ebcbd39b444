package builder

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
	"golang.org/x/sys/unix"
)

// metaEnv returns the values of the ARGs declared before the first FROM,
// with --build-arg overrides, for expanding FROM lines.
func (b *build) metaEnv() []string {
	env := b.platformArgs()
	for _, a := range b.set.Dockerfile.MetaArgs {
		for _, arg := range a.Args {
			if v, ok := b.set.BuildArgs[arg.Key]; ok {
				b.g.consume(arg.Key)
				env = append(env, arg.Key+"="+v)
				continue
			}
			if arg.Value != nil {
				v, _, err := b.expander.Word(*arg.Value, env)
				if err != nil {
					v = *arg.Value
				}
				env = append(env, arg.Key+"="+v)
			}
		}
	}
	return env
}

// declareArgs brings the ARGs of an in-stage ARG instruction into scope:
// a --build-arg wins, then the default, then a global ARG's value.
func (b *build) declareArgs(s *stage, in *dockerfile.ArgInstruction) {
	meta := b.metaEnv()
	s.seq++
	for _, arg := range in.Args {
		a := buildArg{name: arg.Key, seq: s.seq}
		if v, ok := b.set.BuildArgs[arg.Key]; ok {
			a.value, a.set = v, true
			b.g.consume(arg.Key)
		} else if arg.Value != nil {
			a.value, a.set = *arg.Value, true
		} else if v, ok := lookupEnv(meta, arg.Key); ok {
			a.value, a.set = v, true
		}
		replaced := false
		for i := range s.args {
			if s.args[i].name == a.name {
				s.args[i], replaced = a, true
			}
		}
		if !replaced {
			s.args = append(s.args, a)
		}
	}
}

// argText is the ARG instruction as the history records it.
func (b *build) argText(in *dockerfile.ArgInstruction) string {
	parts := make([]string, len(in.Args))
	for i, arg := range in.Args {
		parts[i] = arg.Key
		if v, ok := b.set.BuildArgs[arg.Key]; ok {
			parts[i] += "=" + v
		} else if arg.Value != nil {
			parts[i] += "=" + *arg.Value
		}
	}
	return strings.Join(parts, " ")
}

func lookupEnv(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			val, found = v, true
		}
	}
	return val, found
}

// checkSignal accepts what Docker accepts for STOPSIGNAL: a number, or a
// signal name with or without the SIG prefix (RTMIN+n included).
func checkSignal(sig string) error {
	if n, err := strconv.Atoi(sig); err == nil {
		if n <= 0 || n > 64 {
			return fmt.Errorf("invalid signal: %s", sig)
		}
		return nil
	}
	name := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	if strings.HasPrefix(name, "RTMIN") || strings.HasPrefix(name, "RTMAX") {
		return nil
	}
	if unix.SignalNum("SIG"+name) == 0 {
		return fmt.Errorf("invalid signal: %s", sig)
	}
	return nil
}

// env returns the environment variable expansion sees. ARG and ENV of
// one name apply in instruction order, as in BuildKit: an ENV overrides an
// earlier ARG, and an ARG declared after the ENV overrides it again.
func (s *stage) env() []string {
	var env []string
	for _, a := range s.args {
		if a.set && !s.argWins(a) {
			env = append(env, a.name+"="+a.value)
		}
	}
	env = append(env, s.img.Config.Env...)
	return append(env, s.argEnv()...)
}

// argEnv returns the ARG values in scope that no later ENV overrides.
func (s *stage) argEnv() []string {
	var env []string
	for _, a := range s.args {
		if a.set && s.argWins(a) {
			env = append(env, a.name+"="+a.value)
		}
	}
	return env
}

// argWins reports whether an ARG was declared after the last ENV of its
// name in this stage (the base image's environment comes before both).
func (s *stage) argWins(a buildArg) bool {
	return a.seq > s.envSeq[a.name]
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}
