package progress

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// plainRenderer prints one line per step start and one per result, a
// RUN's output line by line, and a short cascade summary at the end:
// output for logs and CI. Once the build shows a step of a second stage
// or platform, every line of a step starts with its tag "#N " (see the
// package documentation).
type plainRenderer struct {
	mu     sync.Mutex
	w      io.Writer
	stages stageSeen
	// partial holds, per running step and stream, output not yet ended
	// by a newline.
	partial map[int]map[string]*bytes.Buffer
}

func (p *plainRenderer) Report(e builder.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := e.(type) {
	case builder.StepStarted:
		if p.stages.see(e.Stage, e.Platform) {
			fmt.Fprintf(p.w, "#%d %s %s\n", e.Index, stepTag(e.Index, e.Total, stageLabel(e.Stage, e.Platform)), textfmt.OneLine(e.Instruction))
		} else {
			fmt.Fprintf(p.w, "%s %s\n", stepTag(e.Index, e.Total, ""), textfmt.OneLine(e.Instruction))
		}
	case builder.StepOutput:
		p.output(e)
	case builder.StepDone:
		s := e.Step
		p.stages.see(s.Stage, s.Platform)
		p.flush(s.Index)
		p.line(s.Index, "=> "+stepStatus(e))
		if !s.Reason.IsZero() && s.Cache != builder.CacheBase {
			p.line(s.Index, "   why: "+s.Reason.String())
		}
	case builder.Warning:
		fmt.Fprintln(p.w, warningText(e))
	default:
		if line, ok := registryLine(e); ok {
			fmt.Fprintln(p.w, line)
		}
	}
}

// line prints a line of step index below its header: indented while the
// build has shown one stage, after the step's tag once it has shown more.
func (p *plainRenderer) line(index int, text string) {
	if p.stages.several {
		fmt.Fprintf(p.w, "#%d %s\n", index, text)
	} else {
		fmt.Fprintf(p.w, "  %s\n", text)
	}
}

// output prints a RUN's output line by line, each line marked as the
// step's; a line not yet ended waits for its end or for the step's.
func (p *plainRenderer) output(e builder.StepOutput) {
	if p.partial == nil {
		p.partial = map[int]map[string]*bytes.Buffer{}
	}
	streams := p.partial[e.Index]
	if streams == nil {
		streams = map[string]*bytes.Buffer{}
		p.partial[e.Index] = streams
	}
	buf := streams[e.Stream]
	if buf == nil {
		buf = &bytes.Buffer{}
		streams[e.Stream] = buf
	}
	buf.Write(e.Data)
	for {
		line, err := buf.ReadBytes('\n')
		if err != nil {
			buf.Write(line)
			return
		}
		p.line(e.Index, "| "+string(bytes.TrimSuffix(line, []byte("\n"))))
	}
}

// flush prints the unended output of step index, stdout first, and
// forgets the step.
func (p *plainRenderer) flush(index int) {
	streams := p.partial[index]
	names := sortedKeys(streams)
	sort.SliceStable(names, func(i, j int) bool { return names[i] == "stdout" && names[j] != "stdout" })
	for _, name := range names {
		if buf := streams[name]; buf.Len() > 0 {
			p.line(index, "| "+buf.String())
		}
	}
	delete(p.partial, index)
}

func (p *plainRenderer) Finish(res *builder.Result, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	steps, groups := byStage(res.Steps)
	c := summarize(steps)
	fmt.Fprintf(p.w, "cascade: %d steps: %d base, %d cached, %d built\n", len(steps), c.base, c.hits, c.misses)
	label := map[int]string{}
	if len(groups) > 1 {
		for _, g := range groups {
			fmt.Fprintf(p.w, "  [%s] %s\n", g.label, countText(g.steps))
			for _, s := range g.steps {
				label[s.Index] = "[" + g.label + "] "
			}
		}
	}
	if c.first == nil {
		fmt.Fprintln(p.w, "  no miss: every step came from the cache")
	} else {
		f := c.first
		fmt.Fprintf(p.w, "  first miss: step %d (line %d) %s%s\n", f.Index, f.Line, label[f.Index], textfmt.Clip(f.Instruction, 60))
		fmt.Fprintf(p.w, "    why: %s\n", f.Reason)
		if n := c.cascaded[f.Index]; n > 0 {
			fmt.Fprintf(p.w, "  %s after it missed in its cascade\n", textfmt.Plural(n, "step"))
		}
		if others := c.causes[1:]; len(others) > 0 {
			fmt.Fprintf(p.w, "  %s missed for reasons of their own: %s\n", textfmt.Plural(len(others), "other step"), stepList(others))
		}
	}
	fmt.Fprintf(p.w, "built %s in %.2fs (%d cached, %d built)\n", res.Manifest.Digest, took.Seconds(), c.hits, c.misses)
}

// Close prints what the unfinished steps wrote without ending a line,
// in step order.
func (p *plainRenderer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	indexes := make([]int, 0, len(p.partial))
	for i := range p.partial {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	for _, i := range indexes {
		p.flush(i)
	}
}

// sortedKeys are m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
