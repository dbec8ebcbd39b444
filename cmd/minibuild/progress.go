package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/minibuild/minibuild/builder"
)

// renderer shows the builder's events to a person or a tool.
type renderer interface {
	builder.Reporter
	// Finish prints the end of the build.
	Finish(res *builder.Result, took time.Duration)
}

// newRenderer returns the renderer --progress names.
func newRenderer(mode string, w io.Writer) renderer {
	switch mode {
	case "json":
		return &jsonRenderer{enc: json.NewEncoder(w)}
	case "quiet":
		return quietRenderer{}
	}
	return &plainRenderer{w: w}
}

// plainRenderer prints one line per step start and one per result.
type plainRenderer struct {
	mu sync.Mutex
	w  io.Writer
	// partial holds output of a RUN not yet ended by a newline, per stream.
	partial map[string]*bytes.Buffer
}

func (p *plainRenderer) Report(e builder.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := e.(type) {
	case builder.StepStarted:
		fmt.Fprintf(p.w, "[%d/%d] %s\n", e.Index, e.Total, oneLine(e.Instruction))
	case builder.StepOutput:
		p.output(e)
	case builder.StepDone:
		p.flush()
		fmt.Fprintf(p.w, "  => %s\n", stepSummary(e))
	case builder.Warning:
		if e.Line > 0 {
			fmt.Fprintf(p.w, "warning: line %d: %s\n", e.Line, e.Message)
		} else {
			fmt.Fprintf(p.w, "warning: %s\n", e.Message)
		}
	}
}

// output prints a RUN's output line by line, prefixed so it reads as part of the step.
func (p *plainRenderer) output(e builder.StepOutput) {
	if p.partial == nil {
		p.partial = map[string]*bytes.Buffer{}
	}
	buf := p.partial[e.Stream]
	if buf == nil {
		buf = &bytes.Buffer{}
		p.partial[e.Stream] = buf
	}
	buf.Write(e.Data)
	for {
		line, err := buf.ReadBytes('\n')
		if err != nil {
			buf.Write(line)
			return
		}
		fmt.Fprintf(p.w, "  | %s", line)
	}
}

func (p *plainRenderer) flush() {
	for _, buf := range p.partial {
		if buf.Len() > 0 {
			fmt.Fprintf(p.w, "  | %s\n", buf.String())
			buf.Reset()
		}
	}
}

func (p *plainRenderer) Finish(res *builder.Result, took time.Duration) {
	hits, misses := 0, 0
	for _, s := range res.Steps {
		switch s.Cache {
		case builder.CacheHit:
			hits++
		case builder.CacheMiss:
			misses++
		}
	}
	fmt.Fprintf(p.w, "built %s in %.2fs (%d cached, %d built)\n", res.Manifest.Digest, took.Seconds(), hits, misses)
}

// stepSummary is the result line of a step.
func stepSummary(e builder.StepDone) string {
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
		out += fmt.Sprintf("  layer %s %s", shortDigest(s.Layer.Digest.String()), humanSize(s.Layer.Size))
	} else if s.Cache != builder.CacheBase {
		out += "  (no layer)"
	}
	if s.Cache == builder.CacheMiss && s.Reason != "" {
		out += "\n     why: " + s.Reason
	}
	return out
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
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
		v = struct {
			Event string `json:"event"`
			builder.StepResult
			Layer    string  `json:"layer,omitempty"`
			Duration float64 `json:"seconds"`
		}{"stepDone", e.Step, layer, e.Duration.Seconds()}
	case builder.StepOutput:
		v = struct {
			Event  string `json:"event"`
			Index  int    `json:"index"`
			Stream string `json:"stream"`
			Data   string `json:"data"`
		}{"output", e.Index, e.Stream, string(e.Data)}
	case builder.Warning:
		v = struct {
			Event string `json:"event"`
			builder.Warning
		}{"warning", e}
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

// quietRenderer prints nothing; the digest goes to stdout at the end.
type quietRenderer struct{}

func (quietRenderer) Report(builder.Event)                  {}
func (quietRenderer) Finish(*builder.Result, time.Duration) {}
