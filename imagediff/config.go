package imagediff

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// diffConfigs lists the fields in which the configs a and b differ: the
// image's own (created, author, platform), the runtime config's (Env,
// Labels, ExposedPorts and Volumes per item, the others whole) and the
// history, entry by entry. The layers' diff_ids are left to the layers.
func diffConfigs(a, b builder.Image, opts Options) []ConfigChange {
	d := &configDiff{out: []ConfigChange{}}
	if !opts.IgnoreTimes {
		d.value("created", timeValue(a.Created), timeValue(b.Created))
	}
	d.value("author", a.Author, b.Author)
	d.value("architecture", a.Architecture, b.Architecture)
	d.value("os", a.OS, b.OS)
	d.value("os.version", a.OSVersion, b.OSVersion)
	d.value("os.features", a.OSFeatures, b.OSFeatures)
	d.value("variant", a.Variant, b.Variant)
	ca, cb := a.Config, b.Config
	d.value("config.User", ca.User, cb.User)
	d.env(ca.Env, cb.Env)
	d.value("config.Entrypoint", ca.Entrypoint, cb.Entrypoint)
	d.value("config.Cmd", ca.Cmd, cb.Cmd)
	d.value("config.WorkingDir", ca.WorkingDir, cb.WorkingDir)
	d.keyed("config.Labels", ca.Labels, cb.Labels)
	d.set("config.ExposedPorts", ca.ExposedPorts, cb.ExposedPorts)
	d.set("config.Volumes", ca.Volumes, cb.Volumes)
	d.value("config.StopSignal", ca.StopSignal, cb.StopSignal)
	d.value("config.Healthcheck", ca.Healthcheck, cb.Healthcheck)
	d.value("config.OnBuild", ca.OnBuild, cb.OnBuild)
	d.value("config.Shell", ca.Shell, cb.Shell)
	d.value("config.ArgsEscaped", ca.ArgsEscaped, cb.ArgsEscaped) //nolint:staticcheck // Docker still writes it
	d.history(a.History, b.History, opts)
	return d.out
}

// configDiff collects ConfigChanges.
type configDiff struct {
	out []ConfigChange
}

// value records field when a and b differ, an empty value counting as
// absent (the config's omitempty).
func (d *configDiff) value(field string, a, b any) {
	if a, b = present(a), present(b); !reflect.DeepEqual(a, b) {
		d.out = append(d.out, ConfigChange{Field: field, A: a, B: b})
	}
}

// env compares environment variables by name; a list holding the same
// variables in another order is recorded whole.
func (d *configDiff) env(a, b []string) {
	ma, mb := envMap(a), envMap(b)
	if maps.Equal(ma, mb) {
		if !slices.Equal(a, b) {
			d.out = append(d.out, ConfigChange{Field: "config.Env", A: a, B: b})
		}
		return
	}
	d.keyed("config.Env", ma, mb)
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// keyed compares two maps key by key, in key order.
func (d *configDiff) keyed(field string, a, b map[string]string) {
	for _, k := range unionKeys(a, b) {
		va, oka := a[k]
		vb, okb := b[k]
		if oka == okb && va == vb {
			continue
		}
		c := ConfigChange{Field: field, Key: k}
		if oka {
			c.A = va
		}
		if okb {
			c.B = vb
		}
		d.out = append(d.out, c)
	}
}

// set compares the keys of two maps used as sets: each key only one has
// is a change whose value, on that side, is the key.
func (d *configDiff) set(field string, a, b map[string]struct{}) {
	for _, k := range unionKeys(a, b) {
		_, oka := a[k]
		_, okb := b[k]
		switch {
		case oka && !okb:
			d.out = append(d.out, ConfigChange{Field: field, A: k})
		case okb && !oka:
			d.out = append(d.out, ConfigChange{Field: field, B: k})
		}
	}
}

// history compares the history entries index by index (without their
// created with opts.IgnoreTimes).
func (d *configDiff) history(a, b []ocispec.History, opts Options) {
	for i := range max(len(a), len(b)) {
		var ha, hb *ocispec.History
		if i < len(a) {
			ha = &a[i]
		}
		if i < len(b) {
			hb = &b[i]
		}
		if ha != nil && hb != nil && sameHistory(*ha, *hb, opts) {
			continue
		}
		c := ConfigChange{Field: "history", Key: strconv.Itoa(i)}
		if ha != nil {
			c.A = *ha
		}
		if hb != nil {
			c.B = *hb
		}
		d.out = append(d.out, c)
	}
}

func sameHistory(a, b ocispec.History, opts Options) bool {
	if opts.IgnoreTimes {
		a.Created, b.Created = nil, nil
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// present returns v, or nil for an empty value: "", false, a nil pointer,
// an empty slice or map.
func present(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
	case reflect.Slice, reflect.Map, reflect.String:
		if rv.Len() == 0 {
			return nil
		}
	case reflect.Bool:
		if !rv.Bool() {
			return nil
		}
	}
	return v
}

// timeValue is t as RFC 3339 text, or nil.
func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
