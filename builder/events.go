package builder

import (
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Cache results a step can have.
const (
	CacheBase = "base" // a FROM step
	CacheHit  = "hit"  // reused from the cache
	CacheMiss = "miss" // built
	// CacheUnknown is a dry run's answer for a step whose key depends on
	// a result only a real build has.
	CacheUnknown = "unknown"
)

// Event is something the builder reports while it works; the CLI renders it.
type Event interface{ event() }

// Reporter receives the builder's events in order. Report must not block for long.
type Reporter interface {
	Report(Event)
}

// StepStarted says a step begins.
type StepStarted struct {
	Index       int    // 1-based, in build order
	Total       int    // number of steps in the build
	Stage       string // stage name or index
	Line        int    // Dockerfile line where the instruction starts
	Instruction string // the instruction as written
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

func (StepStarted) event()  {}
func (StepDone) event()     {}
func (StepOutput) event()   {}
func (StepProgress) event() {}
func (Warning) event()      {}

// StepResult is what one step came to; it is the shape of a metadata-file step.
type StepResult struct {
	Index       int                 `json:"index"`
	Line        int                 `json:"line"`
	Stage       string              `json:"stage"`
	Instruction string              `json:"instruction"`
	Cache       string              `json:"cache"`
	Reason      string              `json:"reason"`
	Key         digest.Digest       `json:"key"`
	Layer       *ocispec.Descriptor `json:"-"`
}

// Result is a finished build.
type Result struct {
	Manifest ocispec.Descriptor
	Config   ocispec.Descriptor
	Image    Image
	Steps    []StepResult
}

// nopReporter drops every event.
type nopReporter struct{}

func (nopReporter) Report(Event) {}
