package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestConfigFields: HEALTHCHECK and the other config instructions, checked
// in the exported config with skopeo inspect --config.
func TestConfigFields(t *testing.T) {
	requireRoot(t)
	skopeo := requireTool(t, "skopeo")
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM scratch
MAINTAINER Ada Lovelace <ada@example.org>
HEALTHCHECK --interval=30s --timeout=5s --start-period=2s --retries=4 CMD /bin/check --quick
USER 1000:1000
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data"]
VOLUME /logs /cache
STOPSIGNAL SIGQUIT
LABEL a=1 b="two words" \
      c=3
WORKDIR /srv
SHELL ["/bin/bash", "-eu", "-c"]
ENTRYPOINT ["/app"]
CMD run --fast
`})
	out := filepath.Join(t.TempDir(), "out")
	build(t, t.TempDir(), ctx, "-t", "cfg:dev", "-o", "type=oci,dest="+out)
	// --raw: the config as stored, with Docker's fields (skopeo's parsed
	// view keeps only the OCI ones).
	raw, err := exec.Command(skopeo, "inspect", "--config", "--raw", "oci:"+out+":dev").Output()
	if err != nil {
		t.Fatalf("skopeo inspect --config: %v", err)
	}
	var cfg struct {
		Author string `json:"author"`
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
			StopSignal   string
			Labels       map[string]string
			WorkingDir   string
			Shell        []string
			Entrypoint   []string
			Cmd          []string
			Healthcheck  struct {
				Test        []string
				Interval    time.Duration
				Timeout     time.Duration
				StartPeriod time.Duration
				Retries     int
			}
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	want := map[string]any{
		"author":     "Ada Lovelace <ada@example.org>",
		"user":       "1000:1000",
		"ports":      []string{"53/udp", "80/tcp", "8000/tcp", "8001/tcp"},
		"volumes":    []string{"/cache", "/data", "/logs"},
		"stopsignal": "SIGQUIT",
		"labels":     map[string]string{"a": "1", "b": "two words", "c": "3"},
		"workdir":    "/srv",
		"shell":      []string{"/bin/bash", "-eu", "-c"},
		"entrypoint": []string{"/app"},
		"cmd":        []string{"/bin/bash", "-eu", "-c", "run --fast"},
		"health":     []string{"CMD-SHELL", "/bin/check --quick"},
		"timing":     []any{30 * time.Second, 5 * time.Second, 2 * time.Second, 4},
	}
	got := map[string]any{
		"author": cfg.Author, "user": c.User, "ports": sortedKeys(c.ExposedPorts), "volumes": sortedKeys(c.Volumes),
		"stopsignal": c.StopSignal, "labels": c.Labels, "workdir": c.WorkingDir, "shell": c.Shell,
		"entrypoint": c.Entrypoint, "cmd": c.Cmd, "health": c.Healthcheck.Test,
		"timing": []any{c.Healthcheck.Interval, c.Healthcheck.Timeout, c.Healthcheck.StartPeriod, c.Healthcheck.Retries},
	}
	for k := range want {
		if !reflect.DeepEqual(want[k], got[k]) {
			t.Errorf("%s: got %v, want %v", k, got[k], want[k])
		}
	}
}

func sortedKeys(m map[string]struct{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
