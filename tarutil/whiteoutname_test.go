package tarutil

import (
	"errors"
	"testing"
)

func TestClassifyName(t *testing.T) {
	tests := []struct {
		name     string
		kind     NameKind
		concerns string
		err      bool
	}{
		{name: "a", kind: NameOrdinary, concerns: "a"},
		{name: "a/b.wh.c", kind: NameOrdinary, concerns: "a/b.wh.c"},
		{name: "a/..wh.c", kind: NameOrdinary, concerns: "a/..wh.c"},
		{name: "a/.wh.b/c", kind: NameOrdinary, concerns: "a/.wh.b/c"},
		{name: ".wh.b", kind: NameWhiteout, concerns: "b"},
		{name: "a/.wh.b", kind: NameWhiteout, concerns: "a/b"},
		{name: "a/.wh..b", kind: NameWhiteout, concerns: "a/.b"},
		{name: "a/.wh..wh", kind: NameWhiteout, concerns: "a/.wh"},
		{name: "a/.wh..wh.b", kind: NameAufsMeta, concerns: "a/.wh..wh.b"},
		{name: ".wh..wh.plnk/123", kind: NameAufsMeta, concerns: ".wh..wh.plnk/123"},
		{name: ".wh..wh..opq/x", kind: NameAufsMeta, concerns: ".wh..wh..opq/x"},
		{name: "a/.wh..wh.", kind: NameAufsMeta, concerns: "a/.wh..wh."},
		{name: ".wh..wh..opq", kind: NameOpaque, concerns: "."},
		{name: "d/.wh..wh..opq", kind: NameOpaque, concerns: "d"},
		{name: "d/e/.wh..wh..opq", kind: NameOpaque, concerns: "d/e"},
		{name: ".wh.", err: true},
		{name: ".wh..", err: true},
		{name: ".wh...", err: true},
		{name: "a/.wh...", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, concerns, err := ClassifyName(tt.name)
			if tt.err {
				if !errors.Is(err, errUnsafe) {
					t.Fatalf("ClassifyName(%q) = %v, %q, %v; want an unsafe-entry error", tt.name, kind, concerns, err)
				}
				return
			}
			if err != nil || kind != tt.kind || concerns != tt.concerns {
				t.Fatalf("ClassifyName(%q) = %v, %q, %v; want %v, %q", tt.name, kind, concerns, err, tt.kind, tt.concerns)
			}
		})
	}
}
