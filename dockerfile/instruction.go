package dockerfile

import "time"

// Instruction is one typed Dockerfile instruction with its place in the file.
type Instruction interface {
	// Keyword is the instruction's keyword in upper case, such as "COPY".
	Keyword() string
	// Line is the 1-based line where the instruction starts.
	Line() int
	// EndLine is the 1-based line where the instruction ends, heredoc bodies included.
	EndLine() int
	// Text is the instruction as written, continuation lines joined and
	// surrounding white space trimmed; heredoc bodies are not included.
	Text() string
}

// base carries what every instruction shares.
type base struct {
	keyword string
	line    int
	endLine int
	text    string
}

// Keyword returns the upper-case keyword.
func (b *base) Keyword() string { return b.keyword }

// Line returns the 1-based start line.
func (b *base) Line() int { return b.line }

// EndLine returns the 1-based end line.
func (b *base) EndLine() int { return b.endLine }

// Text returns the instruction as written.
func (b *base) Text() string { return b.text }

// KeyValue is one KEY=VALUE pair of ENV or LABEL.
type KeyValue struct {
	Key   string
	Value string
}

// Arg is one name of an ARG instruction; Value is nil when no default is given.
type Arg struct {
	Key   string
	Value *string
}

// Heredoc is an inline document (<<NAME ... NAME) attached to RUN, COPY or ADD.
// Content holds the body with its final newline; for <<-NAME (Chomp) the
// leading tabs are already removed. Expand is false when the NAME was quoted.
type Heredoc struct {
	Name    string
	Content string
	Expand  bool
	Chomp   bool
}

// Stage is one build stage: a FROM and the instructions after it.
type Stage struct {
	Index        int
	Name         string // lower-cased AS name, "" if none
	From         *FromInstruction
	Instructions []Instruction // after FROM
}

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	File       string            // name used in errors, as given to Parse
	Escape     rune              // escape token: '\\' or '`'
	Directives map[string]string // parser directives found: "syntax", "escape", "check"
	MetaArgs   []*ArgInstruction // ARGs before the first FROM
	Stages     []*Stage
	Warnings   []Warning // parser warnings, e.g. empty continuation lines
}

// FromInstruction starts a stage: FROM [--platform=P] IMAGE [AS NAME].
type FromInstruction struct {
	base
	Image    string
	Name     string // lower-cased AS name, "" if none
	Platform string
}

// CopyInstruction is COPY, or ADD when IsAdd is set. Sources lists the
// sources in order; a heredoc source appears as its name (see
// IsHeredocSource) and its body is in Heredocs.
type CopyInstruction struct {
	base
	IsAdd      bool
	Sources    []string
	Dest       string
	From       string // COPY --from
	Chown      string
	Chmod      string
	Checksum   string // ADD --checksum
	Link       bool
	Parents    bool // COPY --parents
	KeepGitDir bool // ADD --keep-git-dir
	Excludes   []string
	Unpack     *bool // ADD --unpack, nil when not given
	Heredocs   []Heredoc
	heredocSrc []bool // heredocSrc[i] reports whether Sources[i] is a heredoc
}

// IsHeredocSource reports whether Sources[i] names a heredoc (in Heredocs)
// rather than a path.
func (c *CopyInstruction) IsHeredocSource(i int) bool {
	return i >= 0 && i < len(c.heredocSrc) && c.heredocSrc[i]
}

// HeredocByName returns the heredoc called name.
func (c *CopyInstruction) HeredocByName(name string) (Heredoc, bool) {
	for i := len(c.Heredocs) - 1; i >= 0; i-- {
		if c.Heredocs[i].Name == name {
			return c.Heredocs[i], true
		}
	}
	return Heredoc{}, false
}

// RunInstruction is RUN. In shell form (PrependShell) Command holds one
// string, the command line after the flags. MountFlags holds the --mount
// values as written (Parse checks those without variables); Mounts holds
// them parsed, in the same order, once an Expander has expanded the
// instruction (Parse leaves it nil).
type RunInstruction struct {
	base
	Command      []string
	PrependShell bool
	Heredocs     []Heredoc
	MountFlags   []string // --mount values as written
	Mounts       []Mount  // --mount values expanded and parsed; nil until expanded
	Network      string   // --network: "" when not given, else "default", "none" or "host"
	Security     string   // --security: "" when not given, else "sandbox" or "insecure"
}

// CmdInstruction is CMD.
type CmdInstruction struct {
	base
	Command      []string
	PrependShell bool
}

// EntrypointInstruction is ENTRYPOINT.
type EntrypointInstruction struct {
	base
	Command      []string
	PrependShell bool
}

// EnvInstruction is ENV; values are as written until expanded.
type EnvInstruction struct {
	base
	Pairs []KeyValue
}

// LabelInstruction is LABEL; values are as written until expanded.
type LabelInstruction struct {
	base
	Pairs []KeyValue
}

// ArgInstruction is ARG.
type ArgInstruction struct {
	base
	Args []Arg
}

// WorkdirInstruction is WORKDIR.
type WorkdirInstruction struct {
	base
	Path string
}

// UserInstruction is USER.
type UserInstruction struct {
	base
	User string
}

// VolumeInstruction is VOLUME.
type VolumeInstruction struct {
	base
	Paths []string
}

// ExposeInstruction is EXPOSE.
type ExposeInstruction struct {
	base
	Ports []string
}

// StopSignalInstruction is STOPSIGNAL.
type StopSignalInstruction struct {
	base
	Signal string
}

// ShellInstruction is SHELL (always JSON form).
type ShellInstruction struct {
	base
	Shell []string
}

// HealthcheckInstruction is HEALTHCHECK. Test is in Docker's config form:
// ["CMD", args...] or ["CMD-SHELL", command]; None means HEALTHCHECK NONE.
type HealthcheckInstruction struct {
	base
	None          bool
	Test          []string
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// OnbuildInstruction is ONBUILD; Expression is the trigger instruction text.
type OnbuildInstruction struct {
	base
	Expression string
}

// MaintainerInstruction is the deprecated MAINTAINER.
type MaintainerInstruction struct {
	base
	Maintainer string
}

var (
	_ Instruction = (*FromInstruction)(nil)
	_ Instruction = (*CopyInstruction)(nil)
	_ Instruction = (*RunInstruction)(nil)
	_ Instruction = (*CmdInstruction)(nil)
	_ Instruction = (*EntrypointInstruction)(nil)
	_ Instruction = (*EnvInstruction)(nil)
	_ Instruction = (*LabelInstruction)(nil)
	_ Instruction = (*ArgInstruction)(nil)
	_ Instruction = (*WorkdirInstruction)(nil)
	_ Instruction = (*UserInstruction)(nil)
	_ Instruction = (*VolumeInstruction)(nil)
	_ Instruction = (*ExposeInstruction)(nil)
	_ Instruction = (*StopSignalInstruction)(nil)
	_ Instruction = (*ShellInstruction)(nil)
	_ Instruction = (*HealthcheckInstruction)(nil)
	_ Instruction = (*OnbuildInstruction)(nil)
	_ Instruction = (*MaintainerInstruction)(nil)
)
