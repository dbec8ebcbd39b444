package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/maintenance"
	"github.com/minibuild/minibuild/mountcache"
)

// TestPrintUsage: du's table has a row for the cache mounts, and below
// it a line per cache id (instances summed, odd ids quoted) when there
// are any.
func TestPrintUsage(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	tests := []struct {
		name   string
		mounts []mountcache.Info
		want   []string // lines, each as fields joined by one space
		absent []string
	}{
		{"none", nil,
			[]string{"cache mounts 0 0 B with --mounts or --all", "0 images tagged, 0 cache entries, 0 cache mounts"},
			[]string{"CACHE MOUNT"}},
		{"some", []mountcache.Info{
			{ID: "/root/.cache/go-build", Size: 2048, LastUsed: t0},
			{ID: "apt", Instance: 0, Size: 1024, LastUsed: t0},
			{ID: "apt", Instance: 1, Size: 1024, LastUsed: t0.Add(time.Hour), InUse: true},
			{ID: "odd\x00id", Size: 0, LastUsed: t0},
			{Dir: "/r/mounts/ab/0/data", Size: 512},
		}, []string{
			"cache mounts 4 4.5 KiB with --mounts or --all",
			"total 4.5 KiB",
			"0 images tagged, 0 cache entries, 4 cache mounts",
			"CACHE MOUNT INSTANCES SIZE LAST USED IN USE",
			"/root/.cache/go-build 1 2.0 KiB 2026-01-02 03:04:05 -",
			"apt 2 2.0 KiB 2026-01-02 04:04:05 yes",
			`"odd\x00id" 1 0 B 2026-01-02 03:04:05 -`,
			"(damaged) /r/mounts/ab/0/data 1 512 B - -",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := PrintUsage(&out, maintenance.DiskUsage{Mounts: tt.mounts}); err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(out.String(), "\n") {
				lines[strings.Join(strings.Fields(l), " ")] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("no line %q in:\n%s", w, out.String())
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("%q in:\n%s", a, out.String())
				}
			}
		})
	}
}
