package builder

import (
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultPathEnv is the PATH Docker gives every Linux image, FROM scratch included.
const DefaultPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// HealthConfig is Docker's healthcheck extension of the image config.
type HealthConfig struct {
	Test          []string      `json:"Test,omitempty"`
	Interval      time.Duration `json:"Interval,omitempty"`
	Timeout       time.Duration `json:"Timeout,omitempty"`
	StartPeriod   time.Duration `json:"StartPeriod,omitempty"`
	StartInterval time.Duration `json:"StartInterval,omitempty"`
	Retries       int           `json:"Retries,omitempty"`
}

// Config is an image's runtime configuration: the OCI fields plus the
// fields Docker adds (Healthcheck, OnBuild, Shell).
type Config struct {
	ocispec.ImageConfig
	Healthcheck *HealthConfig `json:"Healthcheck,omitempty"`
	OnBuild     []string      `json:"OnBuild,omitempty"`
	Shell       []string      `json:"Shell,omitempty"`
}

// Image is an image configuration document
// (application/vnd.oci.image.config.v1+json) with Docker's extensions.
type Image struct {
	Created *time.Time `json:"created,omitempty"`
	Author  string     `json:"author,omitempty"`
	ocispec.Platform
	Config  Config            `json:"config,omitempty"`
	RootFS  ocispec.RootFS    `json:"rootfs"`
	History []ocispec.History `json:"history,omitempty"`
}

// emptyImage is the configuration FROM scratch starts with, as BuildKit makes it.
func emptyImage(p ocispec.Platform) Image {
	img := Image{Platform: p}
	img.RootFS.Type = "layers"
	img.RootFS.DiffIDs = nil
	img.Config.WorkingDir = "/"
	img.Config.Env = []string{DefaultPathEnv}
	return img
}

// clone returns a deep copy of img, so a stage can change it freely.
func (img Image) clone() Image {
	c := img
	c.Config.Env = append([]string(nil), img.Config.Env...)
	c.Config.Cmd = append([]string(nil), img.Config.Cmd...)
	c.Config.Entrypoint = append([]string(nil), img.Config.Entrypoint...)
	c.Config.Shell = append([]string(nil), img.Config.Shell...)
	c.Config.OnBuild = append([]string(nil), img.Config.OnBuild...)
	c.Config.Labels = cloneMap(img.Config.Labels)
	c.Config.ExposedPorts = cloneMap(img.Config.ExposedPorts)
	c.Config.Volumes = cloneMap(img.Config.Volumes)
	c.RootFS.DiffIDs = append(c.RootFS.DiffIDs[:0:0], img.RootFS.DiffIDs...)
	c.History = append([]ocispec.History(nil), img.History...)
	if img.Config.Healthcheck != nil {
		h := *img.Config.Healthcheck
		h.Test = append([]string(nil), h.Test...)
		c.Config.Healthcheck = &h
	}
	return c
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
