package session

import (
	"reflect"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestSettingsCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  Settings
		err  string
	}{
		{"nothing", Settings{}, ""},
		{"push with a tag", Settings{Push: true, Tags: []string{"r/a:1"}}, ""},
		{"push without a tag", Settings{Push: true}, "--push needs a name"},
		{"registry output with names", Settings{Outputs: []Output{{Kind: OutputRegistry, Names: []string{"r/a:1"}}}}, ""},
		{"registry output with -t", Settings{Tags: []string{"r/a:1"}, Outputs: []Output{{Kind: OutputRegistry}}}, ""},
		{"registry output without a name", Settings{Outputs: []Output{{Kind: OutputRegistry}}}, "needs name="},
		{"docker output of one platform", Settings{Outputs: []Output{{Kind: OutputDocker, Dest: "x.tar"}}, Build: builder.Settings{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "arm64"}}}}, ""},
		{"docker output of two platforms", Settings{Outputs: []Output{{Kind: OutputDocker, Dest: "x.tar"}}, Build: builder.Settings{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}}}, "docker load archives hold one platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.set.Check()
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("Check() = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestOutputNames(t *testing.T) {
	set := Settings{Tags: []string{"app:1", "app:2"}}
	if got := set.names(Output{Kind: OutputOCI}); !reflect.DeepEqual(got, set.Tags) {
		t.Errorf("an output without names: %v, want the tags", got)
	}
	if got := set.names(Output{Kind: OutputDocker, Names: []string{"x"}}); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("an output with names: %v", got)
	}
}
