package dockerfile

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Expander substitutes variables ($VAR, ${VAR}, ${VAR:-default}, ...) in
// Dockerfile words with BuildKit's shell lexer, honouring the escape token.
// It holds no state between calls and is safe for concurrent use.
type Expander struct {
	escape rune
}

// NewExpander returns an Expander for a Dockerfile whose escape token is
// escape ('\\' or '`'; 0 means '\\').
func NewExpander(escape rune) *Expander {
	if escape == 0 {
		escape = '\\'
	}
	return &Expander{escape: escape}
}

// Word expands one word as Docker expands, say, a WORKDIR: variables are
// substituted and quotes and escapes removed. env holds KEY=VALUE entries,
// later ones winning. It also returns the sorted, unique names of the
// variables the word referenced, set or not.
func (x *Expander) Word(word string, env []string) (string, []string, error) {
	w := x.newWalk(env)
	out, err := w.word(word)
	return out, w.referenced(), err
}

// Words expands word and splits the result into words the way Docker treats
// EXPOSE arguments (quoted white space does not split). It also returns the
// sorted, unique names of the variables referenced.
func (x *Expander) Words(word string, env []string) ([]string, []string, error) {
	w := x.newWalk(env)
	out, err := w.words(word)
	return out, w.referenced(), err
}

// walk is one expansion: an environment and the names looked up so far.
type walk struct {
	escape rune
	env    *envMap
	names  map[string]struct{}
}

func (x *Expander) newWalk(env []string) *walk {
	escape := '\\'
	if x != nil && x.escape != 0 {
		escape = x.escape
	}
	return &walk{escape: escape, env: newEnvMap(env), names: map[string]struct{}{}}
}

// process runs lex over s and records the variables it referenced.
func (w *walk) process(lex *shell.Lex, s string) (string, error) {
	if err := textError(s); err != nil {
		return "", fmt.Errorf("cannot expand %q: %w", s, err)
	}
	res, err := lex.ProcessWordWithMatches(s, w.env)
	for k := range res.Matched {
		w.names[k] = struct{}{}
	}
	for k := range res.Unmatched {
		w.names[k] = struct{}{}
	}
	if err != nil {
		return "", err
	}
	return res.Result, nil
}

func (w *walk) word(s string) (string, error) {
	return w.process(shell.NewLex(w.escape), s)
}

func (w *walk) words(s string) ([]string, error) {
	lex := shell.NewLex(w.escape)
	if _, err := w.process(lex, s); err != nil {
		return nil, err
	}
	return lex.ProcessWords(s, w.env)
}

// heredoc expands a heredoc body as Docker does for COPY/ADD <<EOF: with the
// backslash escape and without removing quotes.
func (w *walk) heredoc(s string) (string, error) {
	lex := shell.NewLex('\\')
	lex.SkipProcessQuotes = true
	return w.process(lex, s)
}

// wordsInPlace expands every element of s.
func (w *walk) wordsInPlace(s []string) error {
	for i, v := range s {
		out, err := w.word(v)
		if err != nil {
			return err
		}
		s[i] = out
	}
	return nil
}

func (w *walk) pairsInPlace(pairs []KeyValue) error {
	for i, p := range pairs {
		k, err := w.word(p.Key)
		if err != nil {
			return err
		}
		v, err := w.word(p.Value)
		if err != nil {
			return err
		}
		pairs[i] = KeyValue{Key: k, Value: v}
	}
	return nil
}

func (w *walk) referenced() []string {
	out := make([]string, 0, len(w.names))
	for k := range w.names {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Expand returns a copy of inst with variables expanded in exactly the fields
// Docker expands, using env (KEY=VALUE, later entries winning) as the
// environment before the instruction: so ENV A=1 B=${A}2 sees the old A.
// Expanded are ADD and COPY (sources, destination, --chown, --chmod, --from,
// --checksum and the bodies of unquoted heredoc sources), ENV and LABEL keys
// and values, EXPOSE (split into words), FROM image and --platform (use the
// meta ARGs as env), STOPSIGNAL, USER, VOLUME, WORKDIR and ARG defaults;
// RUN's --mount values are expanded (the value of each key=value, as
// BuildKit does) and parsed into Mounts, its command is left as written.
// Unlike ENV, each ARG default sees the defaults before it in the same
// instruction; a builder applying --build-arg overrides should instead
// expand each default with Word, in order, with the values it chose.
// CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER are copied
// unchanged. It also returns the sorted names of the variables referenced.
// Errors are *Error at the instruction's line, file naming the Dockerfile.
func (x *Expander) Expand(inst Instruction, file string, env []string) (Instruction, []string, error) {
	if inst == nil || (reflect.ValueOf(inst).Kind() == reflect.Pointer && reflect.ValueOf(inst).IsNil()) {
		return nil, nil, &Error{File: file, Err: errors.New("expanding a nil instruction")}
	}
	w := x.newWalk(env)
	out, err := w.instruction(inst)
	if err != nil {
		return nil, nil, &Error{File: file, Line: inst.Line(), Err: fmt.Errorf("%s: %w", inst.Keyword(), err)}
	}
	return out, w.referenced(), nil
}

// instruction expands a copy of inst.
func (w *walk) instruction(inst Instruction) (Instruction, error) {
	switch v := inst.(type) {
	case *FromInstruction:
		c := *v
		return &c, w.from(&c)
	case *CopyInstruction:
		c := cloneCopy(v)
		return c, w.copyInstruction(c)
	case *EnvInstruction:
		c := *v
		c.Pairs = slices.Clone(v.Pairs)
		return &c, w.pairsInPlace(c.Pairs)
	case *LabelInstruction:
		c := *v
		c.Pairs = slices.Clone(v.Pairs)
		return &c, w.pairsInPlace(c.Pairs)
	case *ArgInstruction:
		c := *v
		c.Args = slices.Clone(v.Args)
		return &c, w.argDefaults(c.Args)
	case *ExposeInstruction:
		c := *v
		c.Ports = nil
		for _, p := range v.Ports {
			ps, err := w.words(p)
			if err != nil {
				return nil, err
			}
			c.Ports = append(c.Ports, ps...)
		}
		return &c, nil
	case *VolumeInstruction:
		c := *v
		c.Paths = slices.Clone(v.Paths)
		if err := w.wordsInPlace(c.Paths); err != nil {
			return nil, err
		}
		if slices.Contains(c.Paths, "") {
			return nil, errors.New("VOLUME specified can not be an empty string")
		}
		return &c, nil
	case *WorkdirInstruction:
		c := *v
		p, err := w.word(v.Path)
		c.Path = p
		return &c, err
	case *UserInstruction:
		c := *v
		u, err := w.word(v.User)
		c.User = u
		return &c, err
	case *StopSignalInstruction:
		c := *v
		s, err := w.word(v.Signal)
		c.Signal = s
		return &c, err
	case *RunInstruction:
		c := *v
		c.Command, c.Heredocs = slices.Clone(v.Command), slices.Clone(v.Heredocs)
		c.MountFlags = slices.Clone(v.MountFlags)
		mounts, err := w.mounts(v.MountFlags)
		c.Mounts = mounts
		return &c, err
	case *CmdInstruction:
		c := *v
		c.Command = slices.Clone(v.Command)
		return &c, nil
	case *EntrypointInstruction:
		c := *v
		c.Command = slices.Clone(v.Command)
		return &c, nil
	case *ShellInstruction:
		c := *v
		c.Shell = slices.Clone(v.Shell)
		return &c, nil
	case *HealthcheckInstruction:
		c := *v
		c.Test = slices.Clone(v.Test)
		return &c, nil
	case *OnbuildInstruction:
		c := *v
		return &c, nil
	case *MaintainerInstruction:
		c := *v
		return &c, nil
	}
	return nil, fmt.Errorf("unsupported instruction type %T", inst)
}

func (w *walk) from(c *FromInstruction) error {
	img, err := w.word(c.Image)
	if err != nil {
		return err
	}
	if img == "" {
		return fmt.Errorf("base name (%s) should not be blank", c.Image)
	}
	c.Image = img
	if c.Platform != "" {
		p, err := w.word(c.Platform)
		if err != nil {
			return err
		}
		if p == "" {
			return fmt.Errorf("empty platform value from expression %s", c.Platform)
		}
		c.Platform = p
	}
	return nil
}

// argDefaults expands ARG defaults in order. As in Docker, a default sees the
// names defined before it in the same instruction (ARG A=1 B=$A gives B=1).
func (w *walk) argDefaults(args []Arg) error {
	for i, a := range args {
		if a.Value == nil {
			continue
		}
		v, err := w.word(*a.Value)
		if err != nil {
			return err
		}
		args[i].Value = &v
		w.env.set(a.Key, v)
	}
	return nil
}

func cloneCopy(v *CopyInstruction) *CopyInstruction {
	c := *v
	c.Sources = slices.Clone(v.Sources)
	c.Excludes = slices.Clone(v.Excludes)
	c.Heredocs = slices.Clone(v.Heredocs)
	c.heredocSrc = slices.Clone(v.heredocSrc)
	if v.Unpack != nil {
		u := *v.Unpack
		c.Unpack = &u
	}
	return &c
}

func (w *walk) copyInstruction(c *CopyInstruction) error {
	for i, src := range c.Sources {
		if c.IsHeredocSource(i) {
			continue
		}
		out, err := w.word(src)
		if err != nil {
			return err
		}
		c.Sources[i] = out
	}
	for _, f := range []*string{&c.Dest, &c.From, &c.Chown, &c.Chmod, &c.Checksum} {
		out, err := w.word(*f)
		if err != nil {
			return err
		}
		*f = out
	}
	used := map[string]bool{}
	for i, s := range c.Sources {
		if c.IsHeredocSource(i) {
			used[s] = true
		}
	}
	for i, h := range c.Heredocs {
		if !h.Expand || !used[h.Name] {
			continue
		}
		out, err := w.heredoc(h.Content)
		if err != nil {
			return err
		}
		c.Heredocs[i].Content = out
	}
	return nil
}
