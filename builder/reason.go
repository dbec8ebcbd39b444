package builder

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/internal/unixfs"
	digest "github.com/opencontainers/go-digest"
)

// ReasonKind is the first word of a step's reason: what kind of input made
// it miss (or, in content mode, why it hit right after a miss).
type ReasonKind string

// The kinds of reasons.
const (
	// ReasonNew: nothing earlier to compare with (no record, no entry).
	ReasonNew ReasonKind = "new"
	// ReasonInstruction: the instruction's text, expansion or settings changed.
	ReasonInstruction ReasonKind = "instruction"
	// ReasonSource: a COPY/ADD input changed.
	ReasonSource ReasonKind = "source"
	// ReasonArg and ReasonEnv: a variable the step sees changed.
	ReasonArg ReasonKind = "arg"
	ReasonEnv ReasonKind = "env"
	// ReasonParent: an earlier step missed (the cascade).
	ReasonParent ReasonKind = "parent"
	// ReasonBase: the FROM image changed, or cannot be had (plan).
	ReasonBase ReasonKind = "base"
	// ReasonPlatform: the stage builds for another platform than the
	// earlier build's (Old, New: "linux/amd64").
	ReasonPlatform ReasonKind = "platform"
	// ReasonNoCache: --no-cache was given.
	ReasonNoCache ReasonKind = "no-cache"
	// ReasonContent: a hit after a rebuilt step that left the same
	// content (content mode).
	ReasonContent ReasonKind = "content"
	// ReasonUnknown: a plan cannot know the result before building.
	ReasonUnknown ReasonKind = "unknown"
)

// Cause tells apart the reasons of one kind.
type Cause string

// The causes, by the kind they go with.
const (
	// ReasonNew: no record of this Dockerfile, no record of this step, or
	// the recorded step's entry is gone.
	CauseNoRecord Cause = "no-record"
	CauseNoStep   Cause = "no-step"
	CausePruned   Cause = "pruned"
	// ReasonInstruction: the text as written (Old, New), what it expands
	// to now (New), or its settings (shell, user, working directory,
	// network).
	CauseText      Cause = "text"
	CauseExpansion Cause = "expansion"
	CauseSettings  Cause = "settings"
	// ReasonSource: the files (Files), or the content of the --from stage
	// or image.
	CauseFiles Cause = "files"
	CauseFrom  Cause = "from"
	// ReasonParent: the cascade from the stage's first miss (Step, Line;
	// cascade mode), a rebuilt step that changed what this one starts from
	// (Step, Line; content mode), or steps before it that differ from the
	// earlier build's.
	CauseCascade Cause = "cascade"
	CauseRebuilt Cause = "rebuilt"
	CauseHistory Cause = "history"
	// ReasonBase: the image changed (Old, New digests), or it is not
	// available (Detail; plan).
	CauseChanged     Cause = "changed"
	CauseUnavailable Cause = "unavailable"
	// ReasonContent: the rebuilt step (Step, Line) left a byte-identical
	// layer, changed only metadata, or left the filesystem and environment
	// as they were.
	CauseSameLayer    Cause = "same-layer"
	CauseMetadataOnly Cause = "metadata-only"
	CauseUnchanged    Cause = "unchanged"
	// ReasonUnknown: a step must be rebuilt first (Step, Line; content
	// mode), the base image is not available locally, a URL (Detail) is
	// downloaded only by a build, a stage (Name) is rebuilt first, or the
	// --from image (Name) cannot be read (Detail).
	CauseMustRebuild  Cause = "must-rebuild"
	CauseNoBase       Cause = "no-base"
	CauseDownload     Cause = "download"
	CauseStageRebuilt Cause = "stage-rebuilt"
	CauseFromImage    Cause = "from-image"
	// ReasonUnknown, drawn from an image alone: its build left no results.
	CauseNoResults Cause = "no-results"
)

// Reason says why a step missed the cache, or why a hit after a miss
// hit: a kind, the cause within it, and the values it names. String is
// the only place its text is made.
type Reason struct {
	Kind  ReasonKind `json:"kind"`
	Cause Cause      `json:"cause,omitempty"`
	// Step and Line name another step of this build: the miss a cascade
	// comes from, the rebuilt step.
	Step int `json:"step,omitempty"`
	Line int `json:"line,omitempty"`
	// Name is the variable (arg, env), the stage or the image concerned.
	Name string `json:"name,omitempty"`
	// Old and New are the earlier build's and this build's value: the
	// instruction's text, a variable's value (nil: unset), the base
	// image's manifest digest ("" for scratch).
	Old *string `json:"old,omitempty"`
	New *string `json:"new,omitempty"`
	// Files are the COPY/ADD inputs that changed; FileDiff says how the
	// first changed one differs.
	Files    *FileChanges `json:"files,omitempty"`
	FileDiff *FileDiff    `json:"fileDiff,omitempty"`
	// Against, when set, names the imported cache (its location) whose
	// entry the step was compared with, instead of this root's last build:
	// Old is then that entry's value.
	Against string `json:"against,omitempty"`
	// Detail is what could not be had: an error's text, a URL.
	Detail string `json:"detail,omitempty"`

	// legacy is the text of a reason read from a record written before
	// reasons had fields; String returns it as it was.
	legacy string
}

// FileChanges lists the COPY/ADD inputs that were changed, added or
// removed, each sorted and cut to the first maxListedFiles, with the
// full counts.
type FileChanges struct {
	Changed      []string `json:"changed,omitempty"`
	Added        []string `json:"added,omitempty"`
	Removed      []string `json:"removed,omitempty"`
	ChangedCount int      `json:"changedCount,omitempty"`
	AddedCount   int      `json:"addedCount,omitempty"`
	RemovedCount int      `json:"removedCount,omitempty"`
}

// maxListedFiles bounds the paths a FileChanges keeps per group;
// shownFiles is how many String names.
const (
	maxListedFiles = 20
	shownFiles     = 3
)

// newFileChanges sorts and cuts the three lists.
func newFileChanges(changed, added, removed []string) *FileChanges {
	cut := func(p []string) []string {
		sort.Strings(p)
		return append([]string(nil), firstN(p, maxListedFiles)...)
	}
	return &FileChanges{Changed: cut(changed), Added: cut(added), Removed: cut(removed),
		ChangedCount: len(changed), AddedCount: len(added), RemovedCount: len(removed)}
}

// IsZero reports whether r says nothing (a hit, a base step).
func (r Reason) IsZero() bool { return r.Kind == "" && r.legacy == "" }

// Cascaded reports whether the step missed only because an earlier step
// of its stage did.
func (r Reason) Cascaded() bool { return r.Kind == ReasonParent }

// String is the reason as one line for people: its kind, a colon, and
// what changed.
func (r Reason) String() string {
	if r.legacy != "" {
		return r.legacy
	}
	if r.Kind == "" {
		return ""
	}
	if r.Kind == ReasonUnknown && r.Cause != CauseNoResults {
		return string(r.Kind) + " " + r.text() // "unknown until built: …"
	}
	return string(r.Kind) + ": " + r.text()
}

// there names the other side of a comparison: the earlier build, or the
// imported cache.
func (r Reason) there() string {
	if r.Against != "" {
		return "in " + r.Against
	}
	return "before"
}

// against is " (compared with LOCATION)" for a comparison with an
// imported cache's entry, else "".
func (r Reason) against() string {
	if r.Against == "" {
		return ""
	}
	return " (compared with the entry in " + r.Against + ")"
}

// Text is the reason without its kind: what follows "KIND: ".
func (r Reason) Text() string {
	if r.legacy != "" {
		rest := strings.TrimPrefix(r.legacy, string(r.Kind))
		return strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	}
	return r.text()
}

func (r Reason) text() string {
	old, cur := deref(r.Old), deref(r.New)
	switch r.Kind {
	case ReasonNoCache:
		return "--no-cache was given"
	case ReasonNew:
		switch r.Cause {
		case CauseNoStep:
			return "no earlier build of this step is known"
		case CausePruned:
			return "the earlier build's entry for this step is no longer in the cache (pruned?)"
		}
		return "no earlier build of this Dockerfile is known"
	case ReasonInstruction:
		switch r.Cause {
		case CauseExpansion:
			return fmt.Sprintf("it now expands to %q", clip(cur))
		case CauseSettings:
			return "its settings changed (shell, user, working directory or network)"
		}
		return fmt.Sprintf("changed from %q to %q", clip(old), clip(cur))
	case ReasonSource:
		if r.Cause == CauseFrom || r.Files == nil {
			return "the content of the --from stage or image changed" + r.against()
		}
		if r.FileDiff != nil {
			return r.Files.String() + " (" + r.FileDiff.text(r.there()) + ")"
		}
		return r.Files.String() + r.against()
	case ReasonArg, ReasonEnv:
		if r.Against != "" {
			return fmt.Sprintf("%s is %s here, %s in %s", r.Name, quoteOrUnset(r.New), quoteOrUnset(r.Old), r.Against)
		}
		return fmt.Sprintf("%s changed from %s to %s", r.Name, quoteOrUnset(r.Old), quoteOrUnset(r.New))
	case ReasonParent:
		switch r.Cause {
		case CauseRebuilt:
			return fmt.Sprintf("step %d (line %d) changed what this step starts from", r.Step, r.Line)
		case CauseHistory:
			return "the steps before it are not those of the earlier build"
		}
		return fmt.Sprintf("cascade from step %d, line %d", r.Step, r.Line)
	case ReasonPlatform:
		if r.Against != "" {
			return fmt.Sprintf("built for %s here, for %s in %s", cur, old, r.Against)
		}
		return fmt.Sprintf("built for %s, the earlier build for %s", cur, old)
	case ReasonBase:
		if r.Cause == CauseUnavailable {
			return r.Detail
		}
		return fmt.Sprintf("the FROM image changed from %s to %s", short(digest.Digest(old)), short(digest.Digest(cur)))
	case ReasonContent:
		what := "but left the filesystem and the environment as they were"
		switch r.Cause {
		case CauseSameLayer:
			what = "to a byte-identical layer"
		case CauseMetadataOnly:
			what = "but changed only the image's metadata"
		}
		return fmt.Sprintf("step %d (line %d) was rebuilt %s, so this step's inputs are unchanged", r.Step, r.Line, what)
	case ReasonUnknown:
		switch r.Cause {
		case CauseMustRebuild:
			return fmt.Sprintf("until built: step %d (line %d) must be rebuilt first, and content mode keys the next steps on what it produces", r.Step, r.Line)
		case CauseNoBase:
			return "until built: the base image is not available locally"
		case CauseDownload:
			return fmt.Sprintf("until built: %s is downloaded only by a real build", r.Detail)
		case CauseStageRebuilt:
			return fmt.Sprintf("until built: stage %s is rebuilt first, and this step keys on the content it produces", r.Name)
		case CauseFromImage:
			return fmt.Sprintf("until built: --from=%s: %s", r.Name, r.Detail)
		case CauseNoResults:
			return "this image's build left no record of its cache results"
		}
		return "until built"
	}
	return string(r.Cause)
}

// String names the changed files: the first few of each group, then a count.
func (f *FileChanges) String() string {
	var parts []string
	for _, g := range []struct {
		verb  string
		paths []string
		n     int
	}{{"changed", f.Changed, f.ChangedCount}, {"added", f.Added, f.AddedCount}, {"removed", f.Removed, f.RemovedCount}} {
		if g.n == 0 {
			continue
		}
		part := g.verb + " " + strings.Join(firstN(g.paths, shownFiles), ", ")
		if g.n > shownFiles {
			part += fmt.Sprintf(" and %d more", g.n-shownFiles)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// FileDiff is how one input file differs from the earlier one: its path,
// and the old and new mode, owner, link target and content digest (only
// what differs is set).
type FileDiff struct {
	Path      string        `json:"path"`
	OldMode   uint32        `json:"oldMode,omitempty"`
	NewMode   uint32        `json:"newMode,omitempty"`
	OldOwner  string        `json:"oldOwner,omitempty"`
	NewOwner  string        `json:"newOwner,omitempty"`
	OldLink   string        `json:"oldLink,omitempty"`
	NewLink   string        `json:"newLink,omitempty"`
	OldDigest digest.Digest `json:"oldDigest,omitempty"`
	NewDigest digest.Digest `json:"newDigest,omitempty"`
}

// text says what differs, "here" for this build and there for the other.
func (d *FileDiff) text(there string) string {
	var parts []string
	if d.OldMode != d.NewMode {
		parts = append(parts, fmt.Sprintf("mode %s here, %s %s", octalMode(d.NewMode), octalMode(d.OldMode), there))
	}
	if d.OldOwner != d.NewOwner {
		parts = append(parts, fmt.Sprintf("owner %s here, %s %s", d.NewOwner, d.OldOwner, there))
	}
	if d.OldLink != d.NewLink {
		parts = append(parts, fmt.Sprintf("link to %q here, %q %s", d.NewLink, d.OldLink, there))
	}
	if d.OldDigest != d.NewDigest {
		parts = append(parts, "content "+short(d.NewDigest)+" here, "+short(d.OldDigest)+" "+there)
	}
	return d.Path + ": " + strings.Join(parts, "; ")
}

// octalMode writes a Go file mode's permission bits as chmod does (0755,
// 4755).
func octalMode(m uint32) string {
	return fmt.Sprintf("%04o", unixfs.ModeBits(fs.FileMode(m)))
}

// legacyReason is a reason read back as text only (a record from before
// reasons had fields): its kind is the word before the colon.
func legacyReason(text string) Reason {
	if text == "" {
		return Reason{}
	}
	kind := text
	if i := strings.IndexAny(text, ": "); i >= 0 {
		kind = text[:i]
	}
	return Reason{Kind: ReasonKind(kind), legacy: text}
}

// ptr returns a pointer to a copy of s, for Reason.Old and New.
func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func quoteOrUnset(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return fmt.Sprintf("%q", clip(*v))
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// clip flattens s to one line of at most 60 bytes.
func clip(s string) string { return clipBytes(s, 60) }

// clipBytes flattens s to one line of at most n bytes, ending in "..."
// when cut.
func clipBytes(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// short is a base image's short digest, or "scratch" for none.
func short(d digest.Digest) string {
	if d == "" {
		return "scratch"
	}
	return textfmt.ShortDigest(d)
}
