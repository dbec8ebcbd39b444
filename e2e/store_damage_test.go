package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corruptCase damages a store holding busybox:test and app:test (built
// from corruptDockerfile) and says what the next build of app must do.
type corruptCase struct {
	name string
	// damage changes the store; it returns the text (a digest, a key, a
	// file) the warning or error must name.
	damage func(t *testing.T, c *corruptStore) string
	// step is the instruction prefix of the step whose cache is damaged:
	// after a successful build it must not have been reused. "" when the
	// build must fail.
	step string
	// quiet allows a rebuild without a warning (a missing blob is no
	// damage, just a miss).
	quiet bool
	// args are extra build arguments.
	args []string
}

// corruptStore is one store with its base and app built.
type corruptStore struct {
	root, ctx, sentinel string
	base, app           metadata
}

const corruptDockerfile = "FROM busybox:test\nCOPY f /f\nARG V=1\nRUN cat /f > /g && echo $V > /v\n"

func (c *corruptStore) blob(digest string) string {
	return filepath.Join(c.root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (c *corruptStore) entry(t *testing.T, prefix string) string {
	t.Helper()
	for _, s := range c.app.Steps {
		if strings.HasPrefix(s.Instruction, prefix) {
			return filepath.Join(c.root, "cache", "entries", strings.TrimPrefix(s.Key, "sha256:")+".json")
		}
	}
	t.Fatalf("no step %q", prefix)
	return ""
}

// escape is a digest string that, joined into a path, would name the
// sentinel's secret.
func (c *corruptStore) escape() string {
	return "sha256:" + strings.Repeat("../", 12) + strings.TrimPrefix(c.sentinel, "/") + "/secret"
}

func flipFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x04
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func corruptCases() []corruptCase {
	return []corruptCase{
		{name: "bit flip in a cached layer", step: "COPY f", damage: func(t *testing.T, c *corruptStore) string {
			l := stepLayer(t, c.app, "COPY f")
			flipFile(t, c.blob(l))
			return l
		}},
		{name: "right size, wrong content in a cached layer", step: "RUN cat", damage: func(t *testing.T, c *corruptStore) string {
			l := stepLayer(t, c.app, "RUN cat")
			data, err := os.ReadFile(c.blob(l))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, c.blob(l), strings.Repeat("\x00", len(data)))
			return l
		}},
		{name: "bit flip in a layer a miss must unpack", step: "COPY f", args: []string{"--build-arg", "V=2"},
			damage: func(t *testing.T, c *corruptStore) string {
				l := stepLayer(t, c.app, "COPY f")
				flipFile(t, c.blob(l))
				if err := os.RemoveAll(filepath.Join(c.root, "layers")); err != nil {
					t.Fatal(err)
				}
				return l
			}},
		{name: "cache entry with a wrong diffID", step: "COPY f", damage: func(t *testing.T, c *corruptStore) string {
			p := c.entry(t, "COPY f")
			var e map[string]any
			data, err := os.ReadFile(p)
			if err == nil {
				err = json.Unmarshal(data, &e)
			}
			if err != nil {
				t.Fatal(err)
			}
			e["diffID"] = "sha256:" + strings.Repeat("a", 64)
			if data, err = json.Marshal(e); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, string(data))
			return stepLayer(t, c.app, "COPY f")
		}},
		{name: "cache entry with a layer digest climbing out", step: "COPY f", damage: func(t *testing.T, c *corruptStore) string {
			p := c.entry(t, "COPY f")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, strings.Replace(string(data), stepLayer(t, c.app, "COPY f"), c.escape(), 1))
			return filepath.Base(p)
		}},
		{name: "cache entry that is not JSON", step: "RUN cat", damage: func(t *testing.T, c *corruptStore) string {
			p := c.entry(t, "RUN cat")
			writeFile(t, p, "\x00\x01{")
			return filepath.Base(p)
		}},
		{name: "cache entry whose layer blob is gone", step: "RUN cat", quiet: true, damage: func(t *testing.T, c *corruptStore) string {
			if err := os.Remove(c.blob(stepLayer(t, c.app, "RUN cat"))); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
		{name: "index.json entry with a digest climbing out", damage: func(t *testing.T, c *corruptStore) string {
			p := filepath.Join(c.root, "index.json")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, strings.Replace(string(data), c.base.Image.ManifestDigest, c.escape(), 1))
			return "invalid digest"
		}},
		{name: "index.json that is not JSON", damage: func(t *testing.T, c *corruptStore) string {
			writeFile(t, filepath.Join(c.root, "index.json"), `{"schemaVersion":2,"manifests":[{"digest":`)
			return "index"
		}},
		{name: "bit flip in the base image's manifest", damage: func(t *testing.T, c *corruptStore) string {
			flipFile(t, c.blob(c.base.Image.ManifestDigest))
			return c.base.Image.ManifestDigest
		}},
		{name: "base image's config gone", damage: func(t *testing.T, c *corruptStore) string {
			if err := os.Remove(c.blob(c.base.Image.ConfigDigest)); err != nil {
				t.Fatal(err)
			}
			return c.base.Image.ConfigDigest
		}},
	}
}

// TestCorruptStore: whatever is damaged in the store, the next
// build never panics, never tags an image that is not whole, and never
// touches anything outside: either it warns, drops what is damaged and
// rebuilds it, or it stops with an error naming what is damaged, after
// which "cache verify --repair" and a rebuild restore a clean store.
func TestCorruptStore(t *testing.T) {
	requireRoot(t)
	for _, tc := range corruptCases() {
		t.Run(tc.name, func(t *testing.T) {
			sentinel, unchanged := sentinelDir(t)
			c := &corruptStore{root: t.TempDir(), ctx: t.TempDir(), sentinel: sentinel}
			c.base = busyboxBase(t, c.root)
			writeTree(t, c.ctx, map[string]string{"Dockerfile": corruptDockerfile, "f": "file content\n"})
			c.app, _ = build(t, c.root, c.ctx, "-t", "app:test")
			named := tc.damage(t, c)

			md := filepath.Join(t.TempDir(), "md.json")
			args := append([]string{"build", "--root", c.root, "--progress", "plain", "--metadata-file", md, "-t", "app:test"}, tc.args...)
			r := mbWithin(t, time.Minute, append(args, c.ctx)...)
			defer unchanged(t)
			switch {
			case r.code == 0 && tc.step == "":
				t.Fatalf("the build succeeded on a damaged base:\n%s", r.stderr)
			case r.code == 0:
				for _, s := range readMetadata(t, md).Steps {
					if strings.HasPrefix(s.Instruction, tc.step) && s.Cache == "hit" {
						t.Errorf("the damaged cache of step %q was reused", s.Instruction)
					}
				}
				if !tc.quiet && (!strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, named)) {
					t.Errorf("no warning naming %s:\n%s", named, r.stderr)
				}
				verifyClean(t, c.root)
				return
			case !strings.Contains(r.stderr, named):
				t.Errorf("the error does not name %s:\n%s", named, r.stderr)
			}
			// A clear error: then repair, rebuild, and all is well.
			if v := mb(t, "cache", "verify", "--root", c.root); v.code == 0 {
				t.Errorf("cache verify found nothing wrong after the build failed on it:\n%s", v.stdout)
			}
			if v := mb(t, "cache", "verify", "--repair", "--root", c.root); v.code != 0 {
				t.Fatalf("cache verify --repair: exit %d\n%s%s", v.code, v.stdout, v.stderr)
			}
			busyboxBase(t, c.root)
			build(t, c.root, c.ctx, append([]string{"-t", "app:test"}, tc.args...)...)
			verifyClean(t, c.root)
		})
	}
}
