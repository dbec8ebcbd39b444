package views

import (
	"reflect"
	"testing"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/results"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestReportBuildGraph: the saved stage graph and the steps' platforms
// reach the report when the saved steps match the image, and no graph
// when they do not.
func TestReportBuildGraph(t *testing.T) {
	layer := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString("layer"), Size: 3}
	m := ocispec.Manifest{Layers: []ocispec.Descriptor{layer}}
	graph := []builder.StageNode{{Stage: "a", Steps: []int{1}}, {Stage: "1", Needs: []int{0}, Steps: []int{2, 3}}}
	saved := results.Build{Manifest: digest.FromString("m"), Graph: graph, Steps: []builder.StepResult{
		{Index: 1, Stage: "a", Platform: "linux/arm64", Instruction: "FROM scratch AS a", Cache: builder.CacheBase},
		{Index: 2, Stage: "1", Platform: "linux/arm64", Instruction: "FROM scratch", Cache: builder.CacheBase},
		{Index: 3, Stage: "1", Platform: "linux/arm64", Instruction: "COPY --from=a / /", Cache: builder.CacheMiss, Layer: &layer},
	}}
	other := saved
	other.Steps = append([]builder.StepResult(nil), saved.Steps...)
	other.Steps[2].Layer = &ocispec.Descriptor{Digest: digest.FromString("another layer")}
	for _, tc := range []struct {
		name      string
		saved     results.Build
		wantGraph []builder.StageNode
	}{
		{"matching results", saved, graph},
		{"results of another image", other, nil},
		{"no results", results.Build{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ReportBuild("x", digest.FromString("m"), m, ocispec.Image{}, nil, tc.saved)
			if !reflect.DeepEqual(b.Graph, tc.wantGraph) {
				t.Errorf("graph %+v, want %+v", b.Graph, tc.wantGraph)
			}
			if tc.wantGraph != nil && b.Steps[len(b.Steps)-1].Platform != "linux/arm64" {
				t.Errorf("steps lost their platform: %+v", b.Steps)
			}
		})
	}
}
