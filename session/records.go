package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/results"
	"github.com/minibuild/minibuild/views"
)

// keepRecords writes what a finished build leaves besides the image: the
// metadata file, the step results for later reports, the report page.
func (s *session) keepRecords(res *builder.Result) error {
	if s.set.MetadataFile != "" {
		if err := writeMetadata(s.set.MetadataFile, res, s.set.Tags); err != nil {
			return err
		}
	}
	saved := results.Of(res, s.mode())
	if s.tools.Results != "" {
		if err := s.tools.Results.Save(saved, s.set.Tags); err != nil {
			s.warn("keeping the step results for 'minibuild report': %v", err)
		}
	}
	if s.set.ReportFile != "" {
		return s.writeReport(res, saved)
	}
	return nil
}

// mode is the build's cache mode.
func (s *session) mode() builder.CacheMode {
	if s.set.Build.CacheMode == "" {
		return builder.ModeCascade
	}
	return s.set.Build.CacheMode
}

// Metadata is the metadata file (--metadata-file): the image built and
// each step's result.
type Metadata struct {
	Image struct {
		Name           string `json:"name"`
		ManifestDigest string `json:"manifestDigest"`
		ConfigDigest   string `json:"configDigest"`
	} `json:"image"`
	Steps []MetadataStep `json:"steps"`
}

// MetadataStep is a step of the metadata file: its result and its layer
// (null for none).
type MetadataStep struct {
	builder.StepJSON
	Layer *string `json:"layer"`
}

// writeMetadata writes the metadata file of res atomically.
func writeMetadata(path string, res *builder.Result, tags []string) error {
	var m Metadata
	if len(tags) > 0 {
		m.Image.Name = tags[0]
	}
	m.Image.ManifestDigest = res.Manifest.Digest.String()
	m.Image.ConfigDigest = res.Config.Digest.String()
	m.Steps = []MetadataStep{}
	for _, st := range res.Steps {
		ms := MetadataStep{StepJSON: st.JSON()}
		if st.Layer != nil {
			l := st.Layer.Digest.String()
			ms.Layer = &l
		}
		m.Steps = append(m.Steps, ms)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing metadata file: %w", err)
	}
	return nil
}

// ReadMetadata reads a metadata file a build wrote (here or on another
// machine).
func ReadMetadata(path string) (Metadata, error) {
	var m Metadata
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: not a minibuild metadata file: %w", path, err)
	}
	return m, nil
}

// writeReport draws the finished build as an HTML page: of the first
// platform's image when several were built.
func (s *session) writeReport(res *builder.Result, saved results.Build) error {
	image := res.Manifest
	if len(saved.Images) > 0 {
		image = res.Images[0].Manifest
		saved = saved.ForPlatform(saved.Images[0].Platform, image.Digest)
	}
	st, err := views.Load(s.tools.Store, image.Digest.String())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, err := range st.Unreadable {
		s.warn("%v (minibuild cache verify tells more)", err)
	}
	title := res.Manifest.Digest.String()
	if len(s.set.Tags) > 0 {
		title = s.set.Tags[0]
	}
	var page bytes.Buffer
	if err := report.HTML(&page, st.Report(title, saved)); err != nil {
		return err
	}
	if s.set.ReportFile == "-" {
		_, err := s.tools.Stdout.Write(page.Bytes())
		return err
	}
	if err := atomicfile.WriteFile(s.set.ReportFile, page.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
