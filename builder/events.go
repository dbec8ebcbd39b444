package builder

import (
	"time"

	"github.com/minibuild/minibuild/cache"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// CacheResult is what the cache did for a step.
type CacheResult string

// Cache results a step can have.
const (
	CacheBase CacheResult = "base" // a FROM step
	CacheHit  CacheResult = "hit"  // reused from the cache
	CacheMiss CacheResult = "miss" // built
	// CacheUnknown is a dry run's answer for a step whose key depends on
	// a result only a real build has.
	CacheUnknown CacheResult = "unknown"
)

// Event is something a build reports while it works; a renderer shows it.
// Packages that run builds (the build session) add events of their own.
type Event interface{ BuildEvent() }

// Reporter receives a build's events in order. Report must not block for long.
type Reporter interface {
	Report(Event)
}

// StepStarted says a step begins.
type StepStarted struct {
	Index       int    `json:"Index"` // 1-based, in build order
	Total       int    `json:"Total"` // number of steps in the build
	Stage       string `json:"Stage"` // stage name or index
	Line        int    `json:"Line"`  // Dockerfile line where the instruction starts
	Instruction string `json:"Instruction"`
	// Platform is the platform the stage builds for (os/arch[/variant]),
	// set only when a build has several (several --platform values, or a
	// FROM --platform other than the target's); "" otherwise.
	Platform string `json:"Platform,omitempty"`
}

// StepDone says a step finished, with its cache result.
type StepDone struct {
	Step     StepResult
	Duration time.Duration
}

// StepOutput carries output of a running step (a RUN command's stdout or stderr).
type StepOutput struct {
	Index  int
	Stream string // "stdout" or "stderr"
	Data   []byte
}

// StepProgress reports bytes handled by a long part of a step, such as
// compressing its layer; Total is 0 when unknown.
type StepProgress struct {
	Index  int
	Action string // "compressing", "unpacking"
	Done   int64
	Total  int64
}

// Warning is a message the user should see that does not stop the build.
type Warning struct {
	Line    int
	Message string
}

// BuildEvent marks the step events as Events.
func (StepStarted) BuildEvent()  {}
func (StepDone) BuildEvent()     {}
func (StepOutput) BuildEvent()   {}
func (StepProgress) BuildEvent() {}
func (Warning) BuildEvent()      {}

// StepResult is what one step came to.
type StepResult struct {
	Index       int
	Line        int
	Stage       string
	Platform    string // as StepStarted.Platform
	Instruction string
	Cache       CacheResult
	// Reason says why a step missed, or why a hit after a miss hit
	// (content mode); zero for other hits and FROM steps.
	Reason Reason
	Key    digest.Digest
	Layer  *ocispec.Descriptor
	// Mounts are a RUN's --mount flags as resolved (secrets by id only).
	Mounts []StepMount
	// Inputs records what went into Key (bounded), for explaining the
	// step against another build's (minibuild explain A.json B.json).
	Inputs *cache.Inputs
}

// StepJSON is a StepResult as JSON: the shape of a metadata file's step.
// Reason is the reason's text, Why its fields. Other formats embed it and
// add their own fields.
type StepJSON struct {
	Index       int           `json:"index"`
	Line        int           `json:"line"`
	Stage       string        `json:"stage"`
	Platform    string        `json:"platform,omitempty"`
	Instruction string        `json:"instruction"`
	Cache       CacheResult   `json:"cache"`
	Reason      string        `json:"reason"`
	Why         *Reason       `json:"why,omitempty"`
	Key         digest.Digest `json:"key"`
	Mounts      []StepMount   `json:"mounts,omitempty"`
	Inputs      *cache.Inputs `json:"inputs,omitempty"`
}

// JSON returns r in its JSON shape (without its layer).
func (r StepResult) JSON() StepJSON {
	j := StepJSON{Index: r.Index, Line: r.Line, Stage: r.Stage, Platform: r.Platform, Instruction: r.Instruction,
		Cache: r.Cache, Reason: r.Reason.String(), Key: r.Key, Mounts: r.Mounts, Inputs: r.Inputs}
	if !r.Reason.IsZero() {
		why := r.Reason
		j.Why = &why
	}
	return j
}

// Result returns the StepResult j describes (without its layer). A step
// written before reasons had fields keeps its reason's text.
func (j StepJSON) Result() StepResult {
	r := StepResult{Index: j.Index, Line: j.Line, Stage: j.Stage, Platform: j.Platform, Instruction: j.Instruction, Cache: j.Cache, Key: j.Key, Mounts: j.Mounts, Inputs: j.Inputs}
	switch {
	case j.Why != nil:
		r.Reason = *j.Why
	case j.Reason != "":
		r.Reason = legacyReason(j.Reason)
	}
	return r
}

// Result is a finished build.
type Result struct {
	// Manifest is the image's manifest or, when several platforms were
	// built, the image index of Images (media type image index).
	Manifest ocispec.Descriptor
	// Config and Image are the image's config: of the first platform's
	// image when several were built.
	Config ocispec.Descriptor
	Image  Image
	// Steps are every step of the build, in a --jobs 1 build's order.
	Steps []StepResult
	// ImageStages names (as StepResult.Stage does) the stages whose steps
	// make the image's layers: the target stage and the stages it is
	// built FROM, transitively.
	ImageStages []string
	// Images are the platforms' images of a build of several platforms,
	// in --platform order; nil for one platform.
	Images []PlatformImage
	// Graph is the stages built and what each needed, in build order.
	Graph []StageNode
}

// PlatformImage is the image built for one platform.
type PlatformImage struct {
	Platform ocispec.Platform
	Manifest ocispec.Descriptor // with Platform set, as in the index
	Config   ocispec.Descriptor
	Image    Image
	// ImageStages are as Result.ImageStages, for this platform's image.
	ImageStages []string
}

// StageNode is one stage of the build's graph: a stage built for one
// platform, or once for all of them when its steps do not depend on the
// target platform.
type StageNode struct {
	Stage    string `json:"stage"`              // as StepResult.Stage
	Platform string `json:"platform,omitempty"` // as StepResult.Platform
	// Needs are the nodes (indexes into Result.Graph) this one waits for:
	// its FROM stage, COPY --from and RUN --mount from= stages.
	Needs []int `json:"needs,omitempty"`
	// Steps are the indexes (StepResult.Index) of the node's steps.
	Steps []int `json:"steps"`
}

// nopReporter drops every event.
type nopReporter struct{}

func (nopReporter) Report(Event) {}
