package dockerfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenInstruction is the JSON shape of one instruction in want.json.
type goldenInstruction struct {
	Keyword string          `json:"keyword"`
	Line    int             `json:"line"`
	EndLine int             `json:"endLine"`
	Text    string          `json:"text"`
	Fields  json.RawMessage `json:"fields"`
	Heredoc []int           `json:"heredocSources,omitempty"`
	Mounts  json.RawMessage `json:"expandedMounts,omitempty"` // RUN's Mounts, expanded without variables
}

type goldenStage struct {
	Index        int                 `json:"index"`
	Name         string              `json:"name"`
	From         goldenInstruction   `json:"from"`
	Instructions []goldenInstruction `json:"instructions"`
}

type goldenDockerfile struct {
	File       string              `json:"file"`
	Escape     string              `json:"escape"`
	Directives map[string]string   `json:"directives"`
	Warnings   []Warning           `json:"warnings"`
	MetaArgs   []goldenInstruction `json:"metaArgs"`
	Stages     []goldenStage       `json:"stages"`
}

func toGoldenInstruction(t *testing.T, inst Instruction) goldenInstruction {
	t.Helper()
	var fields any = inst
	if h, ok := inst.(*HealthcheckInstruction); ok {
		fields = struct {
			None                                          bool
			Test                                          []string
			Interval, Timeout, StartPeriod, StartInterval string
			Retries                                       int
		}{h.None, h.Test, h.Interval.String(), h.Timeout.String(), h.StartPeriod.String(), h.StartInterval.String(), h.Retries}
	}
	g := goldenInstruction{Keyword: inst.Keyword(), Line: inst.Line(), EndLine: inst.EndLine(), Text: inst.Text(), Fields: marshal(t, fields, "")}
	if c, ok := inst.(*CopyInstruction); ok {
		for i := range c.Sources {
			if c.IsHeredocSource(i) {
				g.Heredoc = append(g.Heredoc, i)
			}
		}
	}
	return g
}

func toGolden(t *testing.T, df *Dockerfile) []byte {
	t.Helper()
	g := goldenDockerfile{File: df.File, Escape: string(df.Escape), Directives: df.Directives, Warnings: df.Warnings}
	for _, a := range df.MetaArgs {
		g.MetaArgs = append(g.MetaArgs, toGoldenInstruction(t, a))
	}
	for _, st := range df.Stages {
		gs := goldenStage{Index: st.Index, Name: st.Name, From: toGoldenInstruction(t, st.From)}
		for _, inst := range st.Instructions {
			gi := toGoldenInstruction(t, inst)
			if run, ok := inst.(*RunInstruction); ok && len(run.MountFlags) > 0 {
				out, _, err := NewExpander(df.Escape).Expand(run, df.File, nil)
				if err != nil {
					t.Fatalf("expanding line %d: %v", run.Line(), err)
				}
				gi.Mounts = marshal(t, out.(*RunInstruction).Mounts, "")
			}
			gs.Instructions = append(gs.Instructions, gi)
		}
		g.Stages = append(g.Stages, gs)
	}
	return marshal(t, g, "  ")
}

// marshal encodes v as JSON without HTML escaping, so goldens stay readable.
func marshal(t *testing.T, v any, indent string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func caseDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestParseGolden parses testdata/parse/<case>/Dockerfile and compares the
// typed result with want.json.
func TestParseGolden(t *testing.T) {
	cases := caseDirs(t, filepath.Join("testdata", "parse"))
	if len(cases) < 20 {
		t.Fatalf("only %d positive cases", len(cases))
	}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "parse", name)
			f, err := os.Open(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			df, err := Parse(f, "Dockerfile")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			compareGolden(t, filepath.Join(dir, "want.json"), toGolden(t, df))
		})
	}
}

// TestParseErrors parses testdata/errors/<case>/Dockerfile and compares the
// error text with want.txt.
func TestParseErrors(t *testing.T) {
	cases := caseDirs(t, filepath.Join("testdata", "errors"))
	if len(cases) < 12 {
		t.Fatalf("only %d negative cases", len(cases))
	}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "errors", name)
			src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(bytes.NewReader(src), "Dockerfile")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			compareGolden(t, filepath.Join(dir, "want.txt"), []byte(err.Error()+"\n"))
		})
	}
}
