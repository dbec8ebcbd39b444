package dockerfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse or Expand panic, that errors
// are *Error, that every instruction has a sane line range, and that an
// expanded RUN has one Mount per --mount value.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"parse", "errors"} {
		cases, _ := os.ReadDir(filepath.Join("testdata", dir))
		for _, c := range cases {
			if src, err := os.ReadFile(filepath.Join("testdata", dir, c.Name(), "Dockerfile")); err == nil {
				f.Add(src)
			}
		}
	}
	env := []string{"A=1", "B=two words", "EMPTY="}
	f.Fuzz(func(t *testing.T, src []byte) {
		df, err := Parse(bytes.NewReader(src), "Dockerfile")
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		x := NewExpander(df.Escape)
		var all []Instruction
		for _, a := range df.MetaArgs {
			all = append(all, a)
		}
		for _, st := range df.Stages {
			all = append(all, st.From)
			all = append(all, st.Instructions...)
		}
		for _, inst := range all {
			if inst.Line() < 1 || inst.EndLine() < inst.Line() {
				t.Fatalf("%s has lines %d-%d", inst.Keyword(), inst.Line(), inst.EndLine())
			}
			for _, e := range [][]string{nil, env} {
				out, _, err := x.Expand(inst, df.File, e)
				if err != nil {
					var de *Error
					if !errors.As(err, &de) || de.Line != inst.Line() {
						t.Fatalf("Expand error %v is not an *Error at line %d", err, inst.Line())
					}
					continue
				}
				if out.Keyword() != inst.Keyword() || out.Line() != inst.Line() {
					t.Fatalf("Expand changed %s:%d into %s:%d", inst.Keyword(), inst.Line(), out.Keyword(), out.Line())
				}
				if run, ok := out.(*RunInstruction); ok && len(run.Mounts) != len(run.MountFlags) {
					t.Fatalf("RUN at line %d: %d --mount values gave %d mounts", inst.Line(), len(run.MountFlags), len(run.Mounts))
				}
			}
		}
	})
}
