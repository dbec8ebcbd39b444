package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
	digest "github.com/opencontainers/go-digest"
)

// HTML writes a self-contained page for one build: its layer stack as
// inline SVG, then a table of every step with its reason.
func HTML(w io.Writer, b Build) error {
	var sb strings.Builder
	head(&sb, "minibuild report: "+b.Title)
	fmt.Fprintf(&sb, "<h1>%s</h1>", esc(b.Title))
	intro(&sb, b)
	fmt.Fprintf(&sb, "<figure>%s</figure>", drawSVG([]column{newColumn("", b)}))
	stagesSection(&sb, b)
	table(&sb, "Steps", b)
	sb.WriteString("</body></html>\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// CompareHTML writes a page with two builds of one Dockerfile side by
// side, before on the left and after on the right, their steps aligned.
func CompareHTML(w io.Writer, before, after Build) error {
	var sb strings.Builder
	head(&sb, "minibuild report: "+before.Title+" → "+after.Title)
	fmt.Fprintf(&sb, "<h1>%s → %s</h1>", esc(before.Title), esc(after.Title))
	fmt.Fprintf(&sb, `<p class="lede"><b>before</b> %s</p>`, esc(Summary(before.Steps)))
	fmt.Fprintf(&sb, `<p class="lede"><b>after</b> %s</p>`, esc(Summary(after.Steps)))
	sb.WriteString(`<p class="dim">Steps line up by their place in the Dockerfile. Between the stacks, = means both builds hold the same layer, ≠ a different one.</p>`)
	cols := []column{newColumn("before: "+before.Title, before), newColumn("after: "+after.Title, after)}
	fmt.Fprintf(&sb, "<figure>%s</figure>", drawSVG(cols))
	table(&sb, "After: "+after.Title, after)
	table(&sb, "Before: "+before.Title, before)
	sb.WriteString("</body></html>\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

func head(sb *strings.Builder, title string) {
	fmt.Fprintf(sb, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>%s</title><style>%s</style></head><body>`,
		esc(title), pageStyle)
}

func intro(sb *strings.Builder, b Build) {
	fmt.Fprintf(sb, `<p class="lede">%s</p>`, esc(Summary(b.Steps)))
	var bits []string
	if b.Digest != "" {
		bits = append(bits, "manifest "+b.Digest)
	}
	if b.Mode != "" {
		bits = append(bits, "--cache-mode "+b.Mode)
	}
	if len(bits) > 0 {
		fmt.Fprintf(sb, `<p class="dim"><code>%s</code></p>`, esc(strings.Join(bits, " · ")))
	}
}

// stagesSection draws the build's stage graph, when it has more than one
// stage: a box per stage in columns by depth, arrows to what needs it.
func stagesSection(sb *strings.Builder, b Build) {
	boxes := Stages(b)
	if len(boxes) < 2 {
		return
	}
	sb.WriteString(`<h2>Stages</h2><p class="dim">A stage's column is one more than the deepest stage it waits for (FROM, COPY --from, RUN --mount from=); stages of one column can run at once.</p>`)
	fmt.Fprintf(sb, `<figure class="stages">%s</figure>`, drawGraph(boxes))
}

// table lists every step, newest last, with its result and reason.
func table(sb *strings.Builder, title string, b Build) {
	marks := Marks(b.Steps)
	fmt.Fprintf(sb, `<h2>%s</h2><table class="steps" data-build="%s"><thead><tr><th>Step</th><th>Line</th><th>Result</th><th>Instruction</th><th>Why</th><th>Layer</th><th>Size</th><th>Shared</th></tr></thead><tbody>`,
		esc(title), esc(b.Title))
	for i, s := range b.Steps {
		m := marks[i]
		cls := "k-" + m.Kind
		if !s.InImage {
			cls += " out"
		}
		step, line := "base", ""
		if s.Index > 0 {
			step = fmt.Sprint(s.Index)
		}
		if s.Line > 0 {
			line = fmt.Sprint(s.Line)
		}
		res := m.Symbol + " " + m.Word
		if m.Origin {
			res = m.Symbol + " miss: cascade origin"
		}
		why := s.Reason.String()
		if !s.InImage && s.Cache != builder.CacheBase {
			why = strings.TrimSpace("stage " + s.Stage + ", not in the image. " + why)
		}
		layer, size, shared := "—", "—", "—"
		if s.Layer != "" {
			layer, size = textfmt.ShortID(digest.Digest(s.Layer)), textfmt.Size(s.Size)
		}
		if s.Shared > 0 {
			shared = images(s.Shared)
		}
		fmt.Fprintf(sb, `<tr class="%s" data-step="%s" data-cache="%s" data-mark="%s"><td>%s</td><td>%s</td><td class="res">%s</td><td><code>%s</code></td><td>%s</td><td class="layer"><code>%s</code></td><td>%s</td><td>%s</td></tr>`,
			cls, esc(s.ID), esc(string(s.Cache)), m.Kind, step, line, esc(res), esc(oneLine(s.Instruction))+mountsHTML(s.Mounts), esc(why), esc(layer), size, shared)
	}
	sb.WriteString("</tbody></table>")
}

// mountsHTML lists a step's mounts under its instruction, one a line.
func mountsHTML(ms []builder.StepMount) string {
	var sb strings.Builder
	for _, m := range ms {
		sb.WriteString(`</code><br><small class="mount">mount: ` + esc(m.String()) + `</small><code>`)
	}
	return sb.String()
}
