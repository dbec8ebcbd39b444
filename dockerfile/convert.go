package dockerfile

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// rawInstruction is a parser node prepared for conversion to a typed instruction.
type rawInstruction struct {
	node   *parser.Node
	base   base
	args   []string
	json   bool
	escape rune // the Dockerfile's escape token
}

// convertNode turns one top-level parser node into a typed instruction;
// escape is the Dockerfile's escape token. Errors carry no location; the
// caller adds the node's line.
func convertNode(n *parser.Node, escape rune) (Instruction, error) {
	r := &rawInstruction{
		escape: escape,
		node:   n,
		base: base{
			keyword: strings.ToUpper(n.Value),
			line:    n.StartLine,
			endLine: n.EndLine,
			text:    strings.TrimSpace(n.Original),
		},
		args: nodeArgs(n),
		json: n.Attributes["json"],
	}
	switch r.base.keyword {
	case "FROM":
		return convertFrom(r)
	case "COPY", "ADD":
		return convertCopy(r)
	case "RUN":
		return convertRun(r)
	case "CMD":
		cmd, shell, err := convertCommand(r, false)
		if err != nil {
			return nil, err
		}
		return &CmdInstruction{base: r.base, Command: cmd, PrependShell: shell}, nil
	case "ENTRYPOINT":
		cmd, shell, err := convertCommand(r, true)
		if err != nil {
			return nil, err
		}
		return &EntrypointInstruction{base: r.base, Command: cmd, PrependShell: shell}, nil
	case "ENV":
		pairs, err := convertPairs(r)
		if err != nil {
			return nil, err
		}
		return &EnvInstruction{base: r.base, Pairs: pairs}, nil
	case "LABEL":
		pairs, err := convertPairs(r)
		if err != nil {
			return nil, err
		}
		return &LabelInstruction{base: r.base, Pairs: pairs}, nil
	case "ARG":
		return convertArg(r)
	case "WORKDIR":
		return convertOneArg(r, func(v string) Instruction { return &WorkdirInstruction{base: r.base, Path: v} })
	case "USER":
		return convertOneArg(r, func(v string) Instruction { return &UserInstruction{base: r.base, User: v} })
	case "STOPSIGNAL":
		return convertOneArg(r, func(v string) Instruction { return &StopSignalInstruction{base: r.base, Signal: v} })
	case "MAINTAINER":
		return convertOneArg(r, func(v string) Instruction { return &MaintainerInstruction{base: r.base, Maintainer: v} })
	case "VOLUME":
		return convertVolume(r)
	case "EXPOSE":
		if err := noFlags(r); err != nil {
			return nil, err
		}
		if len(r.args) == 0 {
			return nil, errAtLeastOne(r)
		}
		return &ExposeInstruction{base: r.base, Ports: r.args}, nil
	case "SHELL":
		return convertShell(r)
	case "HEALTHCHECK":
		return convertHealthcheck(r)
	case "ONBUILD":
		return convertOnbuild(r)
	}
	return nil, fmt.Errorf("unknown instruction: %s", n.Value)
}

// nodeArgs returns the argument words of an instruction node; for ONBUILD
// they are the trigger's keyword followed by its arguments.
func nodeArgs(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		if len(a.Children) == 0 {
			out = append(out, a.Value)
			continue
		}
		c := a.Children[0]
		out = append(out, c.Value)
		out = append(out, nodeArgs(c)...)
	}
	return out
}

func errAtLeastOne(r *rawInstruction) error {
	return fmt.Errorf("%s requires at least one argument", r.base.keyword)
}

// noFlags rejects any builder flag on an instruction that takes none.
func noFlags(r *rawInstruction) error {
	_, err := parseFlags(r.node.Flags, nil)
	return err
}

// convertOneArg handles the instructions that take exactly one argument
// (the parser hands over the whole rest of the line as one).
func convertOneArg(r *rawInstruction, build func(arg string) Instruction) (Instruction, error) {
	if err := noFlags(r); err != nil {
		return nil, err
	}
	if len(r.args) != 1 {
		return nil, fmt.Errorf("%s requires exactly one argument", r.base.keyword)
	}
	return build(r.args[0]), nil
}

// validStageName is Docker's rule for AS names (after lower-casing).
var validStageName = regexp.MustCompile(`^[a-z][a-z0-9-_.]*$`)

func convertFrom(r *rawInstruction) (Instruction, error) {
	fl, err := parseFlags(r.node.Flags, map[string]flagKind{"platform": stringFlag})
	if err != nil {
		return nil, err
	}
	in := &FromInstruction{base: r.base, Platform: fl.str("platform")}
	switch {
	case len(r.args) == 1:
	case len(r.args) == 3 && strings.EqualFold(r.args[1], "as"):
		in.Name = strings.ToLower(r.args[2])
		if !validStageName.MatchString(in.Name) {
			return nil, fmt.Errorf("invalid name for build stage: %q, name can't start with a number or contain symbols", r.args[2])
		}
	case len(r.args) == 0:
		return nil, errors.New("FROM requires an image: FROM [--platform=<platform>] <image> [AS <name>]")
	default:
		return nil, errors.New("FROM requires either one or three arguments: FROM <image> [AS <name>]")
	}
	in.Image = r.args[0]
	return in, nil
}

func convertCommand(r *rawInstruction, emptyAsNil bool) ([]string, bool, error) {
	if err := noFlags(r); err != nil {
		return nil, false, err
	}
	cmd := commandLine(r)
	if emptyAsNil && len(cmd) == 0 {
		cmd = nil
	}
	return cmd, !r.json, nil
}

// commandLine is the command of CMD, ENTRYPOINT, RUN or SHELL: the JSON
// array as is, or the shell form joined into one string.
func commandLine(r *rawInstruction) []string {
	if len(r.args) == 0 {
		return []string{}
	}
	if r.json {
		return r.args
	}
	return []string{strings.Join(r.args, " ")}
}

func convertShell(r *rawInstruction) (Instruction, error) {
	if err := noFlags(r); err != nil {
		return nil, err
	}
	cmd := commandLine(r)
	switch {
	case len(cmd) == 0:
		return nil, errAtLeastOne(r)
	case !r.json:
		return nil, errors.New("SHELL requires the arguments to be in JSON form")
	}
	return &ShellInstruction{base: r.base, Shell: cmd}, nil
}

// convertPairs reads the key, value, separator triplets the parser makes of ENV and LABEL.
func convertPairs(r *rawInstruction) ([]KeyValue, error) {
	if err := noFlags(r); err != nil {
		return nil, err
	}
	if len(r.args) == 0 {
		return nil, errAtLeastOne(r)
	}
	if len(r.args)%3 != 0 {
		return nil, fmt.Errorf("bad input to %s, too many arguments", r.base.keyword)
	}
	pairs := make([]KeyValue, 0, len(r.args)/3)
	for i := 0; i < len(r.args); i += 3 {
		if r.args[i] == "" {
			return nil, fmt.Errorf("%s names can not be blank", r.base.keyword)
		}
		pairs = append(pairs, KeyValue{Key: r.args[i], Value: r.args[i+1]})
	}
	return pairs, nil
}

func convertArg(r *rawInstruction) (Instruction, error) {
	if err := noFlags(r); err != nil {
		return nil, err
	}
	if len(r.args) == 0 {
		return nil, errAtLeastOne(r)
	}
	in := &ArgInstruction{base: r.base}
	for _, a := range r.args {
		key, value, hasValue := strings.Cut(a, "=")
		if key == "" {
			return nil, errors.New("ARG names can not be blank")
		}
		arg := Arg{Key: key}
		if hasValue {
			arg.Value = &value
		}
		in.Args = append(in.Args, arg)
	}
	return in, nil
}

func convertVolume(r *rawInstruction) (Instruction, error) {
	if err := noFlags(r); err != nil {
		return nil, err
	}
	if len(r.args) == 0 {
		return nil, errAtLeastOne(r)
	}
	in := &VolumeInstruction{base: r.base}
	for _, v := range r.args {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, errors.New("VOLUME specified can not be an empty string")
		}
		in.Paths = append(in.Paths, v)
	}
	return in, nil
}

// onbuildPrefix matches the ONBUILD keyword in front of the trigger text.
var onbuildPrefix = regexp.MustCompile(`(?i)^\s*ONBUILD\s*`)

func convertOnbuild(r *rawInstruction) (Instruction, error) {
	if err := noFlags(r); err != nil {
		return nil, err
	}
	if len(r.args) == 0 {
		return nil, errAtLeastOne(r)
	}
	switch trigger := strings.ToUpper(strings.TrimSpace(r.args[0])); trigger {
	case "ONBUILD":
		return nil, errors.New("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
	case "MAINTAINER", "FROM":
		return nil, fmt.Errorf("%s isn't allowed as an ONBUILD trigger", trigger)
	}
	var b strings.Builder
	b.WriteString(onbuildPrefix.ReplaceAllString(r.node.Original, ""))
	for _, h := range r.node.Heredocs {
		b.WriteByte('\n')
		b.WriteString(h.Content)
		b.WriteString(h.Name)
	}
	return &OnbuildInstruction{base: r.base, Expression: b.String()}, nil
}
