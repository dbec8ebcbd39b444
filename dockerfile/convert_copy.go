package dockerfile

import (
	"errors"
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// convertCopy handles COPY and ADD.
func convertCopy(r *rawInstruction) (Instruction, error) {
	isAdd := r.base.keyword == "ADD"
	spec := map[string]flagKind{
		"chown":   stringFlag,
		"chmod":   stringFlag,
		"link":    boolFlag,
		"exclude": stringsFlag,
	}
	if isAdd {
		spec["checksum"] = stringFlag
		spec["keep-git-dir"] = boolFlag
		spec["unpack"] = boolFlag
	} else {
		spec["from"] = stringFlag
		spec["parents"] = boolFlag
	}
	fl, err := parseFlags(r.node.Flags, spec)
	if err != nil {
		return nil, err
	}
	if len(r.args) < 2 {
		return nil, fmt.Errorf("%s requires at least two arguments: one or more sources and a destination", r.base.keyword)
	}
	in := &CopyInstruction{
		base:       r.base,
		IsAdd:      isAdd,
		Dest:       r.args[len(r.args)-1],
		From:       fl.str("from"),
		Chown:      fl.str("chown"),
		Chmod:      fl.str("chmod"),
		Checksum:   fl.str("checksum"),
		Link:       fl.bools["link"],
		Parents:    fl.bools["parents"],
		KeepGitDir: fl.bools["keep-git-dir"],
		Excludes:   fl.strings["exclude"],
	}
	if v, ok := fl.bools["unpack"]; ok {
		in.Unpack = &v
	}
	// As in Docker, <<NAME words are heredocs even in the JSON form, where
	// the parser reads no body: such a heredoc is empty.
	if h := parser.MustParseHeredoc(in.Dest); h != nil {
		return nil, fmt.Errorf("%s cannot accept a heredoc as a destination", r.base.keyword)
	}
	in.Heredocs = heredocs(r.node.Heredocs)
	bodies := make(map[string]bool, len(in.Heredocs))
	for _, h := range in.Heredocs {
		bodies[h.Name] = true
	}
	for _, src := range r.args[:len(r.args)-1] {
		h := parser.MustParseHeredoc(src)
		if h == nil {
			in.Sources = append(in.Sources, src)
			in.heredocSrc = append(in.heredocSrc, false)
			continue
		}
		if !bodies[h.Name] {
			in.Heredocs = append(in.Heredocs, Heredoc{Name: h.Name, Expand: h.Expand, Chomp: h.Chomp})
			bodies[h.Name] = true
		}
		in.Sources = append(in.Sources, h.Name)
		in.heredocSrc = append(in.heredocSrc, true)
	}
	return in, nil
}

// heredocs converts the parser's heredocs, removing leading tabs for <<-.
func heredocs(hs []parser.Heredoc) []Heredoc {
	if len(hs) == 0 {
		return nil
	}
	out := make([]Heredoc, 0, len(hs))
	for _, h := range hs {
		content := h.Content
		if h.Chomp {
			content = parser.ChompHeredocContent(content)
		}
		out = append(out, Heredoc{Name: h.Name, Content: content, Expand: h.Expand, Chomp: h.Chomp})
	}
	return out
}

// convertRun handles RUN and its --mount, --network and --security flags.
func convertRun(r *rawInstruction) (Instruction, error) {
	fl, err := parseFlags(r.node.Flags, map[string]flagKind{
		"mount":    stringsFlag,
		"network":  stringFlag,
		"security": stringFlag,
	})
	if err != nil {
		return nil, err
	}
	in := &RunInstruction{
		base:         r.base,
		Command:      commandLine(r),
		PrependShell: !r.json,
		Heredocs:     heredocs(r.node.Heredocs),
		MountFlags:   fl.strings["mount"],
		Network:      fl.str("network"),
		Security:     fl.str("security"),
	}
	if len(in.Command) == 0 {
		return nil, errors.New("RUN requires a command")
	}
	if v := fl.str("network"); fl.has("network") && v != "default" && v != "none" && v != "host" {
		return nil, fmt.Errorf("invalid network mode %q (want default, none or host)", v)
	}
	if v := fl.str("security"); fl.has("security") && v != "sandbox" && v != "insecure" {
		return nil, fmt.Errorf("security %q is not valid (want sandbox or insecure)", v)
	}
	if err := checkMounts(in.MountFlags, r.escape); err != nil {
		return nil, err
	}
	return in, nil
}
