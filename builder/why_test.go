package builder

import "fmt"

// The reasons the table cases want, by what they say.

var (
	whyNew     = Reason{Kind: ReasonNew, Cause: CauseNoRecord}
	whyNewStep = Reason{Kind: ReasonNew, Cause: CauseNoStep}
	whyNoCache = Reason{Kind: ReasonNoCache}
	whyFrom    = Reason{Kind: ReasonSource, Cause: CauseFrom}
)

// whyCascade is the cascade from step's miss at line.
func whyCascade(step, line int) Reason {
	return Reason{Kind: ReasonParent, Cause: CauseCascade, Step: step, Line: line}
}

// whyRebuilt is content mode's miss after step (at line) changed what
// this one starts from.
func whyRebuilt(step, line int) Reason {
	return Reason{Kind: ReasonParent, Cause: CauseRebuilt, Step: step, Line: line}
}

// whyText is an instruction whose text changed from old to cur.
func whyText(old, cur string) Reason {
	return Reason{Kind: ReasonInstruction, Cause: CauseText, Old: &old, New: &cur}
}

// whyVar is a variable (kind arg or env) that changed; nil is unset.
func whyVar(kind ReasonKind, name string, old, cur *string) Reason {
	return Reason{Kind: kind, Name: name, Old: old, New: cur}
}

// whyFiles is a COPY/ADD whose source files changed.
func whyFiles(changed, added, removed []string) Reason {
	return Reason{Kind: ReasonSource, Cause: CauseFiles, Files: newFileChanges(changed, added, removed)}
}

// whyContent is content mode's hit after step (at line) was rebuilt.
func whyContent(cause Cause, step, line int) Reason {
	return Reason{Kind: ReasonContent, Cause: cause, Step: step, Line: line}
}

// whyMustRebuild is a content-mode plan's unknown after step's miss.
func whyMustRebuild(step, line int) Reason {
	return Reason{Kind: ReasonUnknown, Cause: CauseMustRebuild, Step: step, Line: line}
}

// whyBase is a base image that changed from the image build old of the
// case made to the one build cur made (resolveDigests fills them in).
func whyBase(old, cur int) Reason {
	o, c := fmt.Sprintf(manifestOf, old), fmt.Sprintf(manifestOf, cur)
	return Reason{Kind: ReasonBase, Cause: CauseChanged, Old: &o, New: &c}
}

// Placeholders, in a wanted reason's Old or New, for the manifest digest
// of a case's earlier build, or the key of one of its steps (numbered
// from 1).
const (
	manifestOf = "{manifest of build %d}"
	keyOf      = "{key of build %d step %d}"
)

// resolveDigests replaces the placeholders in why with the digests of
// the builds in past.
func resolveDigests(why map[int]Reason, past []*Result) map[int]Reason {
	resolve := func(s *string) *string {
		var n, step int
		if s == nil {
			return s
		}
		var d string
		if _, err := fmt.Sscanf(*s, manifestOf, &n); err == nil && n >= 1 && n <= len(past) && past[n-1] != nil {
			d = past[n-1].Manifest.Digest.String()
		} else if _, err := fmt.Sscanf(*s, keyOf, &n, &step); err == nil && n >= 1 && n <= len(past) && past[n-1] != nil &&
			step >= 1 && step <= len(past[n-1].Steps) {
			d = past[n-1].Steps[step-1].Key.String()
		} else {
			return s
		}
		return &d
	}
	out := make(map[int]Reason, len(why))
	for i, r := range why {
		r.Old, r.New = resolve(r.Old), resolve(r.New)
		out[i] = r
	}
	return out
}
