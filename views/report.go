package views

import (
	"strconv"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/results"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ReportBuild is what the report draws of image name (manifest self, m,
// its config cfg): the base image's layers, then the build's steps with
// their cache results from saved. Without saved results (or when they do
// not match the image), the image's history is drawn, every step's cache
// result unknown. imgs are the store's images, for the shared layers.
func ReportBuild(name string, self digest.Digest, m ocispec.Manifest, cfg ocispec.Image, imgs []Image, saved results.Build) report.Build {
	b := report.Build{Title: name, Digest: self.String(), Mode: string(saved.Mode)}
	users := LayerUsers(imgs, self)
	if steps, ok := savedSteps(m, cfg, users, saved); ok {
		b.Steps, b.Graph = steps, saved.Graph
		return b
	}
	b.Mode = ""
	rows := History(m, cfg, imgs, self)
	why := builder.Reason{Kind: builder.ReasonUnknown, Cause: builder.CauseNoResults}
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		n := len(rows) - i
		b.Steps = append(b.Steps, report.Step{ID: strconv.Itoa(n), Index: n, Instruction: r.CreatedBy, Cache: builder.CacheUnknown,
			Reason: why, Layer: r.Layer.String(), Size: r.Size,
			EmptyLayer: r.EmptyLayer || r.Layer == "", Shared: r.SharedImages, InImage: true})
	}
	return b
}

// savedSteps pairs saved steps with the image: the final stage's layers
// are the manifest's last ones, the layers before them the base's.
func savedSteps(m ocispec.Manifest, cfg ocispec.Image, users map[digest.Digest][]int, sb results.Build) ([]report.Step, bool) {
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
		out = append(out, report.Step{ID: "base." + strconv.Itoa(i+1), Instruction: by, Cache: builder.CacheBase,
			Layer: l.Digest.String(), Size: l.Size, Shared: len(users[l.Digest]), InImage: true})
	}
	for _, st := range sb.Steps {
		rs := report.Step{ID: strconv.Itoa(st.Index), Index: st.Index, Line: st.Line, Stage: st.Stage, Platform: st.Platform, Instruction: st.Instruction,
			Cache: st.Cache, Reason: st.Reason, InImage: st.Stage == final, EmptyLayer: st.Layer == nil, Mounts: st.Mounts}
		if st.Layer != nil && st.Cache != builder.CacheBase {
			rs.Layer, rs.Size, rs.Shared = st.Layer.Digest.String(), st.Layer.Size, len(users[st.Layer.Digest])
		}
		out = append(out, rs)
	}
	return out, true
}
