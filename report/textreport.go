package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Text writes a build's report as plain text: the summary, the stage
// graph (when the build has more than one stage), then one line per step
// with its result and reason.
func Text(w io.Writer, b Build) error {
	var sb strings.Builder
	sb.WriteString(oneLine(b.Title) + "\n")
	var bits []string
	if b.Digest != "" {
		bits = append(bits, "manifest "+b.Digest)
	}
	if b.Mode != "" {
		bits = append(bits, "--cache-mode "+b.Mode)
	}
	if len(bits) > 0 {
		sb.WriteString(strings.Join(bits, " · ") + "\n")
	}
	sb.WriteString(Summary(b.Steps) + "\n")
	if boxes := Stages(b); len(boxes) > 1 {
		sb.WriteString("\n")
		textStages(&sb, boxes)
	}
	sb.WriteString("\n")
	textSteps(&sb, b)
	_, err := io.WriteString(w, trimLines(sb.String()))
	return err
}

// trimLines drops the blanks tabwriter leaves at the end of a line whose
// last cells are empty.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// textStages lists the stage graph, one stage a line in build order: its
// column, steps, results and the stages it waits for.
func textStages(sb *strings.Builder, boxes []StageBox) {
	cols := 0
	for _, s := range boxes {
		cols = max(cols, s.Column+1)
	}
	fmt.Fprintf(sb, "Stages: %d in %d columns (a stage's column is one more than the deepest it waits for)\n", len(boxes), cols)
	tw := tabwriter.NewWriter(sb, 0, 0, 2, ' ', 0)
	for i, s := range boxes {
		counts := fmt.Sprintf("%d hit, %d miss", s.Hit, s.Miss)
		if s.Unknown > 0 {
			counts += fmt.Sprintf(", %d unknown", s.Unknown)
		}
		var needs []string
		for _, d := range needsShown(boxes, i) {
			needs = append(needs, stageLabel(boxes[d].StageNode))
		}
		waits := ""
		if len(needs) > 0 {
			waits = "← " + strings.Join(needs, ", ")
		}
		fmt.Fprintf(tw, "  %s\tcolumn %d\t%s\t%s\t%s %s\t%s\n", stageLabel(s.StageNode), s.Column, stepSpan(s.Steps), counts, kindMark(s.Kind), s.Kind, waits)
	}
	tw.Flush()
}

// textSteps lists the build's steps (not the base image's layers), one a
// line: index, line, stage, result, instruction and why.
func textSteps(sb *strings.Builder, b Build) {
	sb.WriteString("Steps:\n")
	marks := Marks(b.Steps)
	tw := tabwriter.NewWriter(sb, 0, 0, 2, ' ', 0)
	for i, s := range b.Steps {
		if s.Index == 0 {
			continue
		}
		m := marks[i]
		line := ""
		if s.Line > 0 {
			line = fmt.Sprintf("line %d", s.Line)
		}
		why := oneLine(s.Reason.String())
		if why != "" {
			why = "(" + why + ")"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s %s\t%s\t%s\n", s.Index, line, stageName(s.Stage, s.Platform), m.Symbol, m.Word, clip(oneLine(s.Instruction), 60), why)
	}
	tw.Flush()
}
