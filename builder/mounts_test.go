package builder

import (
	"testing"

	"github.com/minibuild/minibuild/dockerfile"
)

func TestStepMountString(t *testing.T) {
	env := "TOKEN"
	tests := []struct {
		m    StepMount
		want string
	}{
		{StepMount{Type: dockerfile.MountCache, Target: "/var/cache/apt", ID: "/var/cache/apt", Sharing: dockerfile.SharingLocked}, "cache /var/cache/apt (sharing locked)"},
		{StepMount{Type: dockerfile.MountCache, Target: "/root/.cache", ID: "pip"}, "cache /root/.cache (id pip)"},
		{StepMount{Type: dockerfile.MountBind, Source: "/packages.txt", Target: "/tmp/p", ReadOnly: true}, "bind /packages.txt at /tmp/p"},
		{StepMount{Type: dockerfile.MountBind, From: "build", Source: "/out", Target: "/in"}, "bind build:/out at /in (rw)"},
		{StepMount{Type: dockerfile.MountSecret, ID: "npmrc", Target: "/run/secrets/npmrc", Required: true}, "secret npmrc at /run/secrets/npmrc (required)"},
		{StepMount{Type: dockerfile.MountSecret, ID: "api", Env: env}, "secret api (env TOKEN)"},
		{StepMount{Type: dockerfile.MountSSH, ID: "default", Target: "/run/buildkit/ssh_agent.0"}, "ssh /run/buildkit/ssh_agent.0 (id default)"},
		{StepMount{Type: dockerfile.MountTmpfs, Target: "/t", Size: 1048576}, "tmpfs /t (size 1048576)"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
