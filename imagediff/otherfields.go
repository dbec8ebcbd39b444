package imagediff

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// The config document's fields diffConfigs compares, at the top level and
// in "config" (rootfs is the layers'; its type is compared here).
var (
	knownTop = map[string]bool{"created": true, "author": true, "architecture": true, "os": true, "os.version": true,
		"os.features": true, "variant": true, "config": true, "rootfs": true, "history": true}
	knownConfig = map[string]bool{"User": true, "ExposedPorts": true, "Env": true, "Entrypoint": true, "Cmd": true,
		"Volumes": true, "WorkingDir": true, "Labels": true, "StopSignal": true, "ArgsEscaped": true,
		"Healthcheck": true, "OnBuild": true, "Shell": true}
)

// EncodingField is the Field of the ConfigChange made when two config
// documents hold the same values written differently (key order,
// spacing, escapes): A and B are the config digests.
const EncodingField = "(encoding)"

// diffOtherFields lists the fields of the config documents a and b that
// diffConfigs does not know ("NAME" at the top level, "config.NAME" in
// config, and rootfs.type), their values decoded from JSON. Documents
// that do not decode as objects give nothing.
func diffOtherFields(a, b []byte) []ConfigChange {
	out := []ConfigChange{}
	ta, tb := fields(a), fields(b)
	out = otherFields("", ta, tb, knownTop, out)
	out = otherFields("config.", fields(ta["config"]), fields(tb["config"]), knownConfig, out)
	ra, rb := fields(ta["rootfs"]), fields(tb["rootfs"])
	return otherFields("rootfs.", map[string]json.RawMessage{"type": ra["type"]}, map[string]json.RawMessage{"type": rb["type"]}, nil, out)
}

// otherFields appends to out a change per key of a or b, not in known,
// whose values differ.
func otherFields(prefix string, a, b map[string]json.RawMessage, known map[string]bool, out []ConfigChange) []ConfigChange {
	for _, k := range unionKeys(a, b) {
		if known[k] {
			continue
		}
		va, vb := decoded(a[k]), decoded(b[k])
		if !reflect.DeepEqual(va, vb) {
			out = append(out, ConfigChange{Field: prefix + k, A: va, B: vb})
		}
	}
	return out
}

// sameValues reports whether the JSON documents a and b hold the same
// values, however written.
func sameValues(a, b []byte) bool {
	va, vb := decoded(a), decoded(b)
	return va != nil && reflect.DeepEqual(va, vb)
}

// fields decodes a JSON object, or gives nil.
func fields(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// decoded is raw decoded (numbers kept as written), nil when absent,
// null or undecodable.
func decoded(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}
