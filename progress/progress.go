package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// Mode is a --progress value: how a build's events are shown.
type Mode string

// Progress modes.
const (
	// Auto is TTY when the output is a terminal (and TERM is not dumb),
	// else Plain.
	Auto  Mode = "auto"
	TTY   Mode = "tty"   // the live view: the running steps redrawn in place
	Plain Mode = "plain" // one line per step start and result, for logs and CI
	JSON  Mode = "json"  // one JSON object per event, for tools
	Quiet Mode = "quiet" // nothing
)

// ParseMode checks a --progress value; "" is Auto.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return Auto, nil
	case Auto, TTY, Plain, JSON, Quiet:
		return m, nil
	}
	return "", fmt.Errorf("invalid --progress %q: want auto, plain, json or quiet", s)
}

// Renderer shows a build's events to a person or a tool.
type Renderer interface {
	builder.Reporter
	// Finish prints the end of a build that succeeded.
	Finish(res *builder.Result, took time.Duration)
	// Close ends the output of a build that failed or was interrupted
	// (Finish was not called): a live view stops and leaves the last
	// output of the unfinished step on screen. It does nothing after
	// Finish and may be called more than once.
	Close()
}

var (
	_ Renderer = (*plainRenderer)(nil)
	_ Renderer = (*jsonRenderer)(nil)
	_ Renderer = quietRenderer{}
	_ Renderer = (*ttyRenderer)(nil)
)

// New returns the renderer of mode, writing to w.
func New(mode Mode, w io.Writer) Renderer {
	switch mode {
	case JSON:
		return &jsonRenderer{enc: json.NewEncoder(w)}
	case Quiet:
		return quietRenderer{}
	case TTY:
		return newTTYRenderer(w, terminalOptions(w))
	case Auto, "":
		if opts := terminalOptions(w); opts.terminal && os.Getenv("TERM") != "dumb" {
			return newTTYRenderer(w, opts)
		}
	}
	return &plainRenderer{w: w}
}

// warningText is a warning as one line.
func warningText(e builder.Warning) string {
	if e.Line > 0 {
		return fmt.Sprintf("warning: line %d: %s", e.Line, e.Message)
	}
	return "warning: " + e.Message
}

// stepStatus is what a finished step came to, without its reason: base,
// CACHED or built, and its layer.
func stepStatus(e builder.StepDone) string {
	s := e.Step
	var out string
	switch s.Cache {
	case builder.CacheBase:
		out = "base"
	case builder.CacheHit:
		out = "CACHED"
	default:
		out = fmt.Sprintf("built in %.2fs", e.Duration.Seconds())
	}
	if s.Layer != nil {
		out += fmt.Sprintf("  layer %s %s", textfmt.ShortDigest(s.Layer.Digest), textfmt.Size(s.Layer.Size))
	} else if s.Cache != builder.CacheBase {
		out += "  (no layer)"
	}
	return out
}

// jsonRenderer prints one JSON object per event, for tools.
type jsonRenderer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (j *jsonRenderer) Report(e builder.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var v any
	switch e := e.(type) {
	case builder.StepStarted:
		v = struct {
			Event string `json:"event"`
			builder.StepStarted
		}{"stepStarted", e}
	case builder.StepDone:
		layer := ""
		if e.Step.Layer != nil {
			layer = e.Step.Layer.Digest.String()
		}
		step := e.Step.JSON()
		step.Inputs = nil // the metadata file has them; a progress line stays short
		v = struct {
			Event string `json:"event"`
			builder.StepJSON
			Layer    string  `json:"layer,omitempty"`
			Duration float64 `json:"seconds"`
		}{"stepDone", step, layer, e.Duration.Seconds()}
	case builder.StepOutput:
		v = struct {
			Event  string `json:"event"`
			Index  int    `json:"index"`
			Stream string `json:"stream"`
			Data   string `json:"data"`
		}{"output", e.Index, e.Stream, string(e.Data)}
	case builder.StepProgress:
		v = struct {
			Event  string `json:"event"`
			Index  int    `json:"index"`
			Action string `json:"action"`
			Done   int64  `json:"done"`
			Total  int64  `json:"total"`
		}{"progress", e.Index, e.Action, e.Done, e.Total}
	case builder.Warning:
		v = struct {
			Event string `json:"event"`
			builder.Warning
		}{"warning", e}
	default:
		var ok bool
		if v, ok = registryJSON(e); !ok {
			return
		}
	}
	_ = j.enc.Encode(v)
}

func (j *jsonRenderer) Finish(res *builder.Result, took time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(struct {
		Event    string  `json:"event"`
		Manifest string  `json:"manifestDigest"`
		Config   string  `json:"configDigest"`
		Seconds  float64 `json:"seconds"`
	}{"done", res.Manifest.Digest.String(), res.Config.Digest.String(), took.Seconds()})
}

func (j *jsonRenderer) Close() {}

// quietRenderer prints nothing; the digest goes to stdout at the end.
type quietRenderer struct{}

func (quietRenderer) Report(builder.Event)                  {}
func (quietRenderer) Finish(*builder.Result, time.Duration) {}
func (quietRenderer) Close()                                {}
