package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// baseInput is a representative COPY/RUN-like key input.
func baseInput() KeyInput {
	return KeyInput{
		Parent:      digest.FromString("parent"),
		Platform:    "linux/amd64",
		Instruction: "COPY app /srv/app",
		Sources: []SourceFile{
			{Path: "app/main.go", Mode: 0o100644, UID: 0, GID: 0, Digest: digest.FromString("main")},
			{Path: "app/link", Mode: 0o120777, UID: 1000, GID: 1000, Linkname: "main.go"},
		},
		Env:   []string{"A=1", "B=2"},
		Extra: []string{"shell=/bin/sh -c"},
	}
}

func TestKeyChanges(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*KeyInput)
	}{
		{"parent", func(k *KeyInput) { k.Parent = digest.FromString("other parent") }},
		{"parent to scratch", func(k *KeyInput) { k.Parent = "" }},
		{"platform", func(k *KeyInput) { k.Platform = "linux/arm64" }},
		{"instruction", func(k *KeyInput) { k.Instruction = "COPY app /srv/app2" }},
		{"source path", func(k *KeyInput) { k.Sources[0].Path = "app/main2.go" }},
		{"source mode", func(k *KeyInput) { k.Sources[0].Mode = 0o100755 }},
		{"source uid", func(k *KeyInput) { k.Sources[0].UID = 1 }},
		{"source gid", func(k *KeyInput) { k.Sources[0].GID = 1 }},
		{"source negative uid", func(k *KeyInput) { k.Sources[0].UID = -1 }},
		{"source digest", func(k *KeyInput) { k.Sources[0].Digest = digest.FromString("main v2") }},
		{"source linkname", func(k *KeyInput) { k.Sources[1].Linkname = "other.go" }},
		{"source added", func(k *KeyInput) { k.Sources = append(k.Sources, SourceFile{Path: "x"}) }},
		{"source removed", func(k *KeyInput) { k.Sources = k.Sources[:1] }},
		{"source order", func(k *KeyInput) { k.Sources[0], k.Sources[1] = k.Sources[1], k.Sources[0] }},
		{"env value", func(k *KeyInput) { k.Env[1] = "B=3" }},
		{"env added", func(k *KeyInput) { k.Env = append(k.Env, "C=") }},
		{"env removed", func(k *KeyInput) { k.Env = nil }},
		// Key never sorts: sorting Env is the caller's job.
		{"env order", func(k *KeyInput) { k.Env[0], k.Env[1] = k.Env[1], k.Env[0] }},
		{"extra value", func(k *KeyInput) { k.Extra[0] = "shell=/bin/bash -c" }},
		{"extra added", func(k *KeyInput) { k.Extra = append(k.Extra, "chown=1:1") }},
		{"empty extra item", func(k *KeyInput) { k.Extra = append(k.Extra, "") }},
		{"env item moved to extra", func(k *KeyInput) {
			k.Extra = append([]string{k.Env[1]}, k.Extra...)
			k.Env = k.Env[:1]
		}},
	}
	base := baseInput().Key()
	seen := map[digest.Digest]string{base: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := baseInput()
			tt.mutate(&k)
			got := k.Key()
			if got == base {
				t.Fatalf("changing the %s did not change the key", tt.name)
			}
			if prev, dup := seen[got]; dup {
				t.Fatalf("changing the %s gives the same key as %s", tt.name, prev)
			}
			seen[got] = tt.name
		})
	}
}

func TestKeyStable(t *testing.T) {
	tests := []struct {
		name string
		a, b KeyInput
	}{
		{"copies", baseInput(), baseInput()},
		{"nil and empty slices", KeyInput{Platform: "linux/amd64"}, KeyInput{Platform: "linux/amd64", Sources: []SourceFile{}, Env: []string{}, Extra: []string{}}},
		{"spare capacity", baseInput(), func() KeyInput {
			k := baseInput()
			k.Env = append(make([]string, 0, 10), k.Env...)
			return k
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.a.Key(), tt.b.Key(); a != b {
				t.Errorf("keys differ: %s vs %s", a, b)
			}
		})
	}
}

func TestKeyLengthPrefixing(t *testing.T) {
	tests := []struct {
		name string
		a, b KeyInput
	}{
		{"instruction and extra", KeyInput{Instruction: "a", Extra: []string{"bc"}}, KeyInput{Instruction: "ab", Extra: []string{"c"}}},
		{"two extra items", KeyInput{Extra: []string{"a", "bc"}}, KeyInput{Extra: []string{"ab", "c"}}},
		{"two env items", KeyInput{Env: []string{"a", "bc"}}, KeyInput{Env: []string{"ab", "c"}}},
		{"platform and instruction", KeyInput{Platform: "a", Instruction: "bc"}, KeyInput{Platform: "ab", Instruction: "c"}},
		{"env and extra", KeyInput{Env: []string{"x"}}, KeyInput{Extra: []string{"x"}}},
		{"one item or two", KeyInput{Extra: []string{"ab"}}, KeyInput{Extra: []string{"a", "b"}}},
		{"source path and linkname", KeyInput{Sources: []SourceFile{{Path: "a", Linkname: "bc"}}}, KeyInput{Sources: []SourceFile{{Path: "ab", Linkname: "c"}}}},
		{"uid and gid", KeyInput{Sources: []SourceFile{{UID: 1}}}, KeyInput{Sources: []SourceFile{{GID: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.a.Key() == tt.b.Key() {
				t.Errorf("%+v and %+v share a key", tt.a, tt.b)
			}
		})
	}
}

// TestKeyGolden pins the v1 recipe: if this fails, the key recipe changed.
// That must be deliberate: bump keyVersion, then regenerate the golden file
// with MINIBUILD_UPDATE_GOLDEN=1.
func TestKeyGolden(t *testing.T) {
	got := baseInput().Key()
	if err := got.Validate(); err != nil || got.Algorithm() != digest.SHA256 {
		t.Fatalf("Key = %q is not a sha256 digest: %v", got, err)
	}
	golden := filepath.Join("testdata", "key_v1.golden")
	if os.Getenv("MINIBUILD_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(got.String()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != strings.TrimSpace(string(want)) {
		t.Errorf("Key of the sample input = %s, golden %s: the v1 recipe changed", got, strings.TrimSpace(string(want)))
	}
}
