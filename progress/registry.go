package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/minibuild/minibuild/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// regPrinter shows what pulls, pushes and the remote cache do, in the
// --progress style: lines for a person (plain, auto), one JSON object per
// event (json), or nothing (quiet).
type regPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	mode string
}

func newRegPrinter(mode string, w io.Writer) *regPrinter {
	if mode == "quiet" {
		w = io.Discard
	}
	return &regPrinter{w: w, mode: mode}
}

// regEvent is a JSON progress event of a registry operation.
type regEvent struct {
	Event  string `json:"event"`
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Status string `json:"status,omitempty"`
	Size   int64  `json:"size,omitempty"`
	Text   string `json:"message,omitempty"`
}

// print writes e as JSON or as the line text.
func (p *regPrinter) print(e regEvent, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "json" {
		_ = json.NewEncoder(p.w).Encode(e)
		return
	}
	fmt.Fprintln(p.w, text)
}

// note prints a message about event kind ("cache", "pull", "push").
func (p *regPrinter) note(event, name, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.print(regEvent{Event: event, Name: name, Text: msg}, msg)
}

// blobs returns the progress function of a pull or push of name: layers
// are shown one line each, as docker pull and push show them.
func (p *regPrinter) blobs(event, name string) registry.ProgressFunc {
	return func(pr registry.Progress) {
		if pr.Kind != registry.KindLayer {
			return
		}
		d := pr.Descriptor
		p.print(regEvent{Event: event, Name: name, Digest: d.Digest.String(), Kind: pr.Kind, Status: pr.Status, Size: d.Size},
			fmt.Sprintf("  %s: %s (%s)", shortDigest(d.Digest.String()), pr.Status, humanSize(d.Size)))
	}
}

// done reports the end of a pull or push of name.
func (p *regPrinter) done(event, name string, desc ocispec.Descriptor) {
	verb := map[string]string{"pull": "pulled", "push": "pushed"}[event]
	p.print(regEvent{Event: event, Name: name, Digest: desc.Digest.String(), Kind: registry.KindManifest, Status: "done"},
		fmt.Sprintf("%s %s: %s", verb, name, desc.Digest))
}

// cacheDownloads is the progress function of the remote cache's lazy
// layer downloads.
func (p *regPrinter) cacheDownloads() registry.ProgressFunc {
	return func(pr registry.Progress) {
		d := pr.Descriptor
		p.print(regEvent{Event: "cache", Digest: d.Digest.String(), Kind: pr.Kind, Status: pr.Status, Size: d.Size},
			fmt.Sprintf("cache: %s layer %s (%s), needed now", pr.Status, shortDigest(d.Digest.String()), humanSize(d.Size)))
	}
}
