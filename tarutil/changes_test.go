package tarutil

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
)

func TestChanges(t *testing.T) {
	img := NewPaths()
	layer := buildTar(t, dirE("data/"), reg("data/a", ""), reg("data/b", ""), dirE("data/sub/"), reg("data/sub/x", ""),
		dirE("etc/"), reg("etc/hosts", ""), symE("link", "data"))
	if err := img.ApplyHeaders(context.Background(), bytes.NewReader(layer)); err != nil {
		t.Fatal(err)
	}
	entries := func(names ...string) []Entry {
		out := make([]Entry, len(names))
		for i, n := range names {
			out[i] = Entry{Name: n}
		}
		return out
	}
	tests := []struct {
		name    string
		entries []Entry
		want    []string // "K /path"
		err     string
	}{
		{name: "add and change", entries: entries("data", "data/a", "data/new", "new-top"),
			want: []string{"C /data", "C /data/a", "A /data/new", "A /new-top"}},
		{name: "whiteouts", entries: entries("data", "data/.wh.b", "data/.wh.sub", "etc", "etc/.wh.hosts"),
			want: []string{"C /data", "D /data/b", "D /data/sub", "C /etc", "D /etc/hosts"}},
		{name: "opaque directory", entries: entries("data", "data/.wh..wh..opq", "data/b", "data/fresh"),
			want: []string{"C /data", "D /data/a", "C /data/b", "A /data/fresh", "D /data/sub"}},
		{name: "opaque marker after the entries", entries: entries("data", "data/b", "data/fresh", "data/.wh..wh..opq"),
			want: []string{"C /data", "D /data/a", "C /data/b", "A /data/fresh", "D /data/sub"}},
		{name: "opaque root", entries: entries(".wh..wh..opq", "etc", "etc/hosts"),
			want: []string{"D /data", "C /etc", "C /etc/hosts", "D /link"}},
		{name: "opaque over a symlink lists nothing below it", entries: entries("link", "link/.wh..wh..opq"),
			want: []string{"C /link"}},
		{name: "whiteout of a missing name", entries: entries(".wh.never"), want: []string{"D /never"}},
		{name: "AUFS metadata skipped", entries: entries("data/.wh..wh.plnk", "data/.wh..wh.plnk/1"), want: []string{}},
		{name: "root entry skipped", entries: entries("", ".", "/", "tmp"), want: []string{"A /tmp"}},
		{name: "dotdot inside a name", entries: entries("data/x/../a", "./tmp/"), want: []string{"C /data/a", "A /tmp"}},
		{name: "dotdot climbing refused", entries: entries("../etc"), err: "leaves the root"},
		{name: "malformed whiteout refused", entries: entries("data/.wh.."), err: "invalid whiteout"},
		{name: "nothing", entries: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, err := img.Changes(tt.entries)
			if tt.err != "" {
				mustContain(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, c := range changes {
				got = append(got, fmt.Sprintf("%c %s", c.Kind, c.Path))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
