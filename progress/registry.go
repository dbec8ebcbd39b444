package progress

import (
	"fmt"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
)

// registryLine is the line a person sees for a registry event: notes as
// they are, the layers of a pull, push or cache export one line each (as
// docker pull and push show them), every blob the remote cache downloads,
// and the end of a pull or push. ok is false for other events, and for
// the manifests and configs of a pull, push or export.
func registryLine(e builder.Event) (line string, ok bool) {
	switch e := e.(type) {
	case session.Note:
		return e.Text, true
	case session.Transfer:
		d := e.Descriptor
		if e.Kind != registry.KindLayer {
			return "", false
		}
		return fmt.Sprintf("  %s: %s (%s)", textfmt.ShortDigest(d.Digest), e.Status, textfmt.Size(d.Size)), true
	case session.CacheDownload:
		d := e.Descriptor
		return fmt.Sprintf("cache: %s layer %s (%s), needed now", e.Status, textfmt.ShortDigest(d.Digest), textfmt.Size(d.Size)), true
	case session.Done:
		verb := map[session.RegistryOp]string{session.OpPull: "pulled", session.OpPush: "pushed"}[e.Op]
		return fmt.Sprintf("%s %s: %s", verb, e.Name, e.Manifest.Digest), true
	}
	return "", false
}

// registryEvent is the JSON of a registry event.
type registryEvent struct {
	Event  session.RegistryOp `json:"event"`
	Name   string             `json:"name,omitempty"`
	Digest string             `json:"digest,omitempty"`
	Kind   string             `json:"kind,omitempty"`
	Status string             `json:"status,omitempty"`
	Size   int64              `json:"size,omitempty"`
	Text   string             `json:"message,omitempty"`
}

// registryJSON is the JSON object of a registry event; ok is false for
// other events, and for what registryLine leaves out of a pull or push.
func registryJSON(e builder.Event) (v any, ok bool) {
	switch e := e.(type) {
	case session.Note:
		return registryEvent{Event: e.Op, Name: e.Name, Text: e.Text}, true
	case session.Transfer:
		if e.Kind != registry.KindLayer {
			return nil, false
		}
		d := e.Descriptor
		return registryEvent{Event: e.Op, Name: e.Name, Digest: d.Digest.String(), Kind: e.Kind, Status: e.Status, Size: d.Size}, true
	case session.CacheDownload:
		d := e.Descriptor
		return registryEvent{Event: session.OpCache, Digest: d.Digest.String(), Kind: e.Kind, Status: e.Status, Size: d.Size}, true
	case session.Done:
		return registryEvent{Event: e.Op, Name: e.Name, Digest: e.Manifest.Digest.String(), Kind: registry.KindManifest, Status: "done"}, true
	}
	return nil, false
}
