package imagediff

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestDiffConfigs(t *testing.T) {
	t0, t1 := time.Unix(0, 0).UTC(), time.Unix(1700000000, 0).UTC()
	base := func() builder.Image {
		img := builder.Image{Created: &t0, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
		img.Config.Env = []string{"PATH=/bin", "MODE=a"}
		img.Config.Cmd = []string{"/bin/sh"}
		img.Config.WorkingDir = "/"
		img.Config.Labels = map[string]string{"k": "v"}
		img.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
		img.History = []ocispec.History{{Created: &t0, CreatedBy: "COPY a /a"}}
		return img
	}
	tests := []struct {
		name        string
		change      func(*builder.Image) // made to b
		ignoreTimes bool
		want        string // the changes as JSON
	}{
		{"nothing", func(*builder.Image) {}, false, `[]`},
		{"an env value", func(i *builder.Image) { i.Config.Env[1] = "MODE=b" }, false,
			`[{"field":"config.Env","key":"MODE","a":"a","b":"b"}]`},
		{"an env variable added", func(i *builder.Image) { i.Config.Env = append(i.Config.Env, "X=1") }, false,
			`[{"field":"config.Env","key":"X","a":null,"b":"1"}]`},
		{"env order only", func(i *builder.Image) { i.Config.Env = []string{"MODE=a", "PATH=/bin"} }, false,
			`[{"field":"config.Env","a":["PATH=/bin","MODE=a"],"b":["MODE=a","PATH=/bin"]}]`},
		{"labels", func(i *builder.Image) { i.Config.Labels = map[string]string{"n": "1"} }, false,
			`[{"field":"config.Labels","key":"k","a":"v","b":null},{"field":"config.Labels","key":"n","a":null,"b":"1"}]`},
		{"ports and volumes", func(i *builder.Image) {
			i.Config.ExposedPorts = map[string]struct{}{"443/tcp": {}}
			i.Config.Volumes = map[string]struct{}{"/data": {}}
		}, false, `[{"field":"config.ExposedPorts","a":null,"b":"443/tcp"},{"field":"config.ExposedPorts","a":"80/tcp","b":null},` +
			`{"field":"config.Volumes","a":null,"b":"/data"}]`},
		{"cmd, entrypoint, user, workdir, stop signal", func(i *builder.Image) {
			i.Config.Cmd, i.Config.Entrypoint = []string{"run"}, []string{"/app"}
			i.Config.User, i.Config.WorkingDir, i.Config.StopSignal = "1000", "/app", "SIGINT"
		}, false, `[{"field":"config.User","a":null,"b":"1000"},{"field":"config.Entrypoint","a":null,"b":["/app"]},` +
			`{"field":"config.Cmd","a":["/bin/sh"],"b":["run"]},{"field":"config.WorkingDir","a":"/","b":"/app"},` +
			`{"field":"config.StopSignal","a":null,"b":"SIGINT"}]`},
		{"healthcheck, onbuild, shell", func(i *builder.Image) {
			i.Config.Healthcheck = &builder.HealthConfig{Test: []string{"CMD", "true"}, Retries: 3}
			i.Config.OnBuild = []string{"RUN x"}
			i.Config.Shell = []string{"/bin/bash", "-c"}
		}, false, `[{"field":"config.Healthcheck","a":null,"b":{"Test":["CMD","true"],"Retries":3}},` +
			`{"field":"config.OnBuild","a":null,"b":["RUN x"]},{"field":"config.Shell","a":null,"b":["/bin/bash","-c"]}]`},
		{"platform", func(i *builder.Image) { i.Architecture, i.Variant = "arm64", "v8" }, false,
			`[{"field":"architecture","a":"amd64","b":"arm64"},{"field":"variant","a":null,"b":"v8"}]`},
		{"created and history", func(i *builder.Image) {
			i.Created = &t1
			i.History = []ocispec.History{{Created: &t1, CreatedBy: "COPY a /a"}, {CreatedBy: "ENV X=1", EmptyLayer: true}}
		}, false, `[{"field":"created","a":"1970-01-01T00:00:00Z","b":"2023-11-14T22:13:20Z"},` +
			`{"field":"history","key":"0","a":{"created":"1970-01-01T00:00:00Z","created_by":"COPY a /a"},"b":{"created":"2023-11-14T22:13:20Z","created_by":"COPY a /a"}},` +
			`{"field":"history","key":"1","a":null,"b":{"created_by":"ENV X=1","empty_layer":true}}]`},
		{"times ignored", func(i *builder.Image) {
			i.Created = &t1
			i.History[0].Created = &t1
		}, true, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			tt.change(&b)
			got, err := json.Marshal(diffConfigs(a, b, Options{IgnoreTimes: tt.ignoreTimes}))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestDiffOtherFields(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{"none", `{"os":"linux","config":{"Env":["A=1"]}}`, `{"config":{"Env":["A=2"]},"os":"linux"}`, `[]`},
		{"top level and config", `{"os":"linux","moby.extra":1,"config":{"Domainname":"x","Env":[]}}`, `{"os":"linux","config":{"Env":["B=1"]}}`,
			`[{"field":"moby.extra","a":1,"b":null},{"field":"config.Domainname","a":"x","b":null}]`},
		{"rootfs type, not diff_ids", `{"rootfs":{"type":"layers","diff_ids":["sha256:a"]}}`, `{"rootfs":{"type":"other","diff_ids":["sha256:b"]}}`,
			`[{"field":"rootfs.type","a":"layers","b":"other"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(diffOtherFields([]byte(tt.a), []byte(tt.b)))
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestCompareConfigEncoding: configs with the same values written
// otherwise (and so the same layers) differ in their encoding.
func TestCompareConfigEncoding(t *testing.T) {
	l := layerTar(t, file("f", "x"))
	a := testImage(t, "a", builder.Image{}, l)
	b := a
	var v map[string]any
	if err := json.Unmarshal(a.RawConfig, &v); err != nil {
		t.Fatal(err)
	}
	b.RawConfig, _ = json.MarshalIndent(v, "", "  ")
	b.Manifest.Config.Digest = digest.FromBytes(b.RawConfig)
	b.Descriptor.Digest = digest.FromString("another manifest")
	res, err := Compare(context.Background(), a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Config) != 1 || res.Config[0].Field != EncodingField || res.Config[0].B != b.Manifest.Config.Digest || !res.Differ {
		t.Errorf("config changes %+v differ %v", res.Config, res.Differ)
	}
}
