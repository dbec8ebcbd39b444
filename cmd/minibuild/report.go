package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func reportCommand() command {
	return command{
		name:    "report",
		summary: "Draw an image's layer stack and cache cascade as a self-contained HTML page",
		usage:   "minibuild report [--root DIR] [--compare OTHER] -o FILE.html NAME",
		example: `  minibuild report app:dev -o app.html                        # the stack, each step's cache result and why
  minibuild report app:after --compare app:before -o diff.html  # two builds side by side, steps aligned
  minibuild -t app:dev --report app.html .                      # the same page, written by the build itself`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			compare := fs.String("compare", "", "draw this earlier build of the same Dockerfile beside NAME (before on the left)")
			out := fs.StringP("output", "o", "", "write the HTML page to FILE (- for stdout)")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("report: want exactly one image name")}
				}
				if *out == "" {
					return usageError{errors.New("report: -o FILE.html is required (- for stdout)")}
				}
				s, err := store.Open(*root)
				if err != nil {
					return err
				}
				after, err := loadReportBuild(s, args[0], stderr)
				if err != nil {
					return err
				}
				var page bytes.Buffer
				if *compare == "" {
					err = report.HTML(&page, after)
				} else {
					var before report.Build
					if before, err = loadReportBuild(s, *compare, stderr); err != nil {
						return err
					}
					err = report.CompareHTML(&page, before, after)
				}
				if err != nil {
					return err
				}
				return writeOut(*out, page.Bytes(), stdout)
			}
		},
	}
}

// savedBuild is what a build leaves in the store for a later report: the
// cache result and reason of each step, which the image does not hold.
type savedBuild struct {
	Manifest digest.Digest `json:"manifest"`
	Mode     string        `json:"mode,omitempty"`
	Steps    []savedStep   `json:"steps"`
}

type savedStep struct {
	builder.StepResult
	Layer *ocispec.Descriptor `json:"layer,omitempty"`
}

// savedPaths are where a build's steps are kept: one file per tag (so two
// builds that made the same image in different cache modes keep their
// own), and one per manifest for an untagged build.
func savedPaths(s *store.Store, tags []string, m digest.Digest) []string {
	var out []string
	for _, t := range tags {
		out = append(out, savedByName(s, t))
	}
	if m.Validate() == nil {
		out = append(out, filepath.Join(s.Root(), "reports", "by-digest", m.Encoded()+".json"))
	}
	return out
}

func savedByName(s *store.Store, name string) string {
	if n, err := store.NormalizeName(name); err == nil {
		name = n
	}
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(s.Root(), "reports", "by-name", hex.EncodeToString(sum[:16])+".json")
}

// saveBuildSteps keeps a finished build's step results for "minibuild report".
func saveBuildSteps(s *store.Store, res *builder.Result, tags []string, mode string) error {
	sb := savedBuild{Manifest: res.Manifest.Digest, Mode: mode}
	for _, st := range res.Steps {
		sb.Steps = append(sb.Steps, savedStep{StepResult: st, Layer: st.Layer})
	}
	data, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	for _, p := range savedPaths(s, tags, res.Manifest.Digest) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeAtomic(p, data); err != nil {
			return err
		}
	}
	return nil
}

// readSaved finds the steps saved for image name, whose manifest is m.
func readSaved(s *store.Store, name string, m digest.Digest) (savedBuild, bool) {
	for _, p := range []string{savedByName(s, name), savedPaths(s, nil, m)[0]} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var sb savedBuild
		if json.Unmarshal(data, &sb) == nil && sb.Manifest == m {
			return sb, true
		}
	}
	return savedBuild{}, false
}

// loadReportBuild reads image name from the store, with the cache results
// its build saved when there are any.
func loadReportBuild(s *store.Store, name string, stderr io.Writer) (report.Build, error) {
	desc, err := s.Resolve(name)
	if err != nil {
		return report.Build{}, err
	}
	m, cfg, err := s.Manifest(desc)
	if err != nil {
		return report.Build{}, fmt.Errorf("image %s: %w", name, err)
	}
	imgs, err := loadStoredImages(s, stderr)
	if err != nil {
		return report.Build{}, err
	}
	sb, ok := readSaved(s, name, desc.Digest)
	if !ok {
		sb = savedBuild{}
	}
	return reportBuild(name, desc.Digest, m, cfg, imgs, sb), nil
}

// reportBuild turns an image and its build's saved steps into what the
// report draws: the base image's layers, then the build's steps. Without
// saved steps (or when they do not match the image), the image's history
// is drawn, every step's cache result unknown.
func reportBuild(name string, self digest.Digest, m ocispec.Manifest, cfg ocispec.Image, imgs []storedImage, sb savedBuild) report.Build {
	b := report.Build{Title: name, Digest: self.String(), Mode: sb.Mode}
	users := layerUsers(imgs, self)
	if steps, ok := savedSteps(m, cfg, users, sb); ok {
		b.Steps = steps
		return b
	}
	b.Mode = ""
	rows := historyRows(m, cfg, imgs, self)
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		n := len(rows) - i
		b.Steps = append(b.Steps, report.Step{ID: strconv.Itoa(n), Index: n, Instruction: r.CreatedBy, Cache: report.CacheUnknown,
			Reason: "unknown: this image's build left no record of its cache results", Layer: r.Layer.String(), Size: r.Size,
			EmptyLayer: r.EmptyLayer || r.Layer == "", Shared: r.SharedImages, InImage: true})
	}
	return b
}

// savedSteps pairs saved steps with the image: the final stage's layers
// are the manifest's last ones, the layers before them the base's.
func savedSteps(m ocispec.Manifest, cfg ocispec.Image, users map[digest.Digest][]int, sb savedBuild) ([]report.Step, bool) {
	if len(sb.Steps) == 0 {
		return nil, false
	}
	final := sb.Steps[len(sb.Steps)-1].Stage
	var own []digest.Digest
	for _, st := range sb.Steps {
		if st.Stage == final && st.Cache != builder.CacheBase && st.Layer != nil {
			own = append(own, st.Layer.Digest)
		}
	}
	nBase := len(m.Layers) - len(own)
	if nBase < 0 {
		return nil, false
	}
	for i, d := range own {
		if m.Layers[nBase+i].Digest != d {
			return nil, false
		}
	}
	var baseBy []string
	for _, h := range cfg.History {
		if !h.EmptyLayer && len(baseBy) < nBase {
			baseBy = append(baseBy, h.CreatedBy)
		}
	}
	var out []report.Step
	for i, l := range m.Layers[:nBase] {
		by := "base image layer"
		if i < len(baseBy) {
			by = baseBy[i]
		}
		out = append(out, report.Step{ID: "base." + strconv.Itoa(i+1), Instruction: by, Cache: report.CacheBase,
			Layer: l.Digest.String(), Size: l.Size, Shared: len(users[l.Digest]), InImage: true})
	}
	for _, st := range sb.Steps {
		rs := report.Step{ID: strconv.Itoa(st.Index), Index: st.Index, Line: st.Line, Stage: st.Stage, Instruction: st.Instruction,
			Cache: st.Cache, Reason: st.Reason, InImage: st.Stage == final, EmptyLayer: st.Layer == nil}
		if st.Layer != nil && st.Cache != builder.CacheBase {
			rs.Layer, rs.Size, rs.Shared = st.Layer.Digest.String(), st.Layer.Size, len(users[st.Layer.Digest])
		}
		out = append(out, rs)
	}
	return out, true
}

// writeBuildReport writes the --report page of a finished build.
func writeBuildReport(s *store.Store, res *builder.Result, tags []string, mode, path string, stdout, stderr io.Writer) error {
	m, cfg, err := s.Manifest(res.Manifest)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	imgs, err := loadStoredImages(s, stderr)
	if err != nil {
		return err
	}
	sb := savedBuild{Manifest: res.Manifest.Digest, Mode: mode}
	for _, st := range res.Steps {
		sb.Steps = append(sb.Steps, savedStep{StepResult: st, Layer: st.Layer})
	}
	name := res.Manifest.Digest.String()
	if len(tags) > 0 {
		name = tags[0]
	}
	var page bytes.Buffer
	if err := report.HTML(&page, reportBuild(name, res.Manifest.Digest, m, cfg, imgs, sb)); err != nil {
		return err
	}
	return writeOut(path, page.Bytes(), stdout)
}

// writeOut writes data to path atomically, or to stdout for "-".
func writeOut(path string, data []byte, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".minibuild-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
