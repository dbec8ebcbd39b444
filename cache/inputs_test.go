package cache

import (
	"fmt"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestInputsOf(t *testing.T) {
	var src []SourceFile
	for i := MaxInputSources + 5; i > 0; i-- {
		src = append(src, SourceFile{Path: fmt.Sprintf("f%05d", i), Mode: 0o644, Digest: digest.FromString(fmt.Sprint(i))})
	}
	r := StepRecord{Stage: "build", Position: 2, Text: "COPY . .", Instruction: "COPY [\".\"] .", Vars: map[string]string{"A": "1"}, Sources: src}
	in := InputsOf(r).Bounded()
	if len(in.Sources) != MaxInputSources || in.SourcesOmitted != 5 || in.Sources[0].Path != "f00001" {
		t.Errorf("sources: %d kept, %d omitted, first %q", len(in.Sources), in.SourcesOmitted, in.Sources[0].Path)
	}
	r.Vars["A"] = "2"
	if in.Vars["A"] != "1" {
		t.Error("InputsOf shares the record's map")
	}
	if err := in.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestInputsCheck(t *testing.T) {
	tests := []struct {
		name string
		in   Inputs
		want string
	}{
		{"bad parent", Inputs{Parent: "sha256:xyz"}, "inputs:"},
		{"bad source digest", Inputs{Sources: []SourceFile{{Path: "a", Digest: "md5:00"}}}, `source "a"`},
		{"too many sources", Inputs{Sources: make([]SourceFile, MaxInputSources+1)}, "too many"},
		{"negative omitted", Inputs{SourcesOmitted: -1}, "too many"},
	}
	for _, tt := range tests {
		err := tt.in.Check()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check = %v, want %q", tt.name, err, tt.want)
		}
	}
	var nilInputs *Inputs
	if err := nilInputs.Check(); err != nil {
		t.Errorf("nil Inputs: %v", err)
	}
}
