package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/binfmt"
	"github.com/minibuild/minibuild/internal/platform"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestEmulationCheck(t *testing.T) {
	amd64 := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	ps := []ocispec.Platform{amd64, {OS: "linux", Architecture: "386"}, {OS: "linux", Architecture: "arm64"},
		{OS: "linux", Architecture: "arm", Variant: "v7"}, {OS: "linux", Architecture: "s390x"}}
	qemu := &binfmt.Handler{Name: "qemu", Enabled: true, Flags: "F"}
	fail := func(p ocispec.Platform, prob binfmt.Problem) error {
		return &binfmt.Error{Platform: p, Host: "amd64", Problem: prob, Dir: "/proc/sys/fs/binfmt_misc",
			Handler: binfmt.Handler{Name: "qemu-" + p.Architecture}, Conf: "/usr/lib/binfmt.d/qemu-" + p.Architecture + ".conf", ConfFlags: "POF"}
	}
	// by says what the fake lookup answers for each architecture: "n"
	// natively, "e" emulated, else the problem.
	by := func(m map[string]any) func(ocispec.Platform) (*binfmt.Handler, error) {
		return func(p ocispec.Platform) (*binfmt.Handler, error) {
			switch v := m[p.Architecture].(type) {
			case string:
				if v == "n" {
					return nil, nil
				}
				return qemu, nil
			case binfmt.Problem:
				return nil, fail(p, v)
			case error:
				return nil, v
			}
			t.Fatalf("lookup of %s", platform.Format(p))
			return nil, nil
		}
	}
	for _, tc := range []struct {
		name   string
		m      map[string]any
		status Status
		detail string
		fix    string
	}{
		{"all", map[string]any{"386": "n", "arm64": "e", "arm": "e", "s390x": "e"}, OK,
			"linux/arm64, linux/arm/v7, linux/s390x (binfmt_misc, F); linux/386 natively", ""},
		{"some", map[string]any{"386": "n", "arm64": "e", "arm": binfmt.NoHandler, "s390x": binfmt.NotRegistered}, OK,
			"linux/arm64 (binfmt_misc, F); linux/386 natively; no handler for linux/arm/v7, linux/s390x", ""},
		{"none", map[string]any{"386": "n", "arm64": binfmt.NoHandler, "arm": binfmt.NoHandler, "s390x": binfmt.NoHandler}, Missing,
			"none: RUN of other architectures' binaries fails here (no binfmt_misc handler for linux/arm64, ...); linux/386 natively",
			"sudo apt-get install qemu-user-static (Debian/Ubuntu), or docker run --privileged --rm tonistiigi/binfmt --install all"},
		{"not registered", map[string]any{"386": "n", "arm64": binfmt.NotRegistered, "arm": binfmt.NoHandler, "s390x": binfmt.NoHandler}, Missing,
			"none: RUN of other architectures' binaries fails here", "run 'systemctl restart systemd-binfmt'"},
		{"not mounted", map[string]any{"386": binfmt.NotMounted, "arm64": binfmt.NotMounted, "arm": binfmt.NotMounted, "s390x": binfmt.NotMounted}, Missing,
			"none: binfmt_misc is not mounted at /proc/sys/fs/binfmt_misc (RUN of 386 binaries", "run 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc', then"},
		{"no F", map[string]any{"386": "n", "arm64": "e", "arm": binfmt.NoFixBinary, "s390x": "e"}, Warning,
			"linux/arm64, linux/s390x (binfmt_misc, F); linux/386 natively; not linux/arm/v7: the binfmt_misc handler qemu-arm for linux/arm/v7 lacks the F flag",
			"re-register it with F: run 'echo -1 > /proc/sys/fs/binfmt_misc/qemu-arm'"},
		{"unreadable", map[string]any{"386": "n", "arm64": errors.New("binfmt: reading binfmt_misc status: permission denied"), "arm": "e", "s390x": "e"}, Warning,
			"linux/arm/v7, linux/s390x (binfmt_misc, F); linux/386 natively; binfmt: reading binfmt_misc status: permission denied", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := emulationCheck(amd64, ps, by(tc.m))
			if c.Name != "emulation" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) || (tc.fix == "") != (c.Fix == "") {
				t.Errorf("got %v %q fix %q\nwant %v %q fix %q", c.Status, c.Detail, c.Fix, tc.status, tc.detail, tc.fix)
			}
		})
	}
}
