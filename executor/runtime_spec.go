package executor

import (
	"path"

	"github.com/minibuild/minibuild/internal/idmap"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runtimeSpec returns the OCI runtime configuration for a planned run: Docker's default
// mounts, capabilities, limits and masked paths, and no cgroup limits.
func runtimeSpec(pl *plan) *specs.Spec {
	p := pl.proc
	m := pl.mounts
	umask := uint32(0o022)
	caps := defaultCapabilityNames()
	nofile := nofileLimit()
	namespaces := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
	}
	if p.Network == NetworkNone {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	var masked, readonly []string
	for _, rel := range maskedProcPaths() {
		masked = append(masked, path.Join(m.Proc, rel))
	}
	for _, rel := range maskedSysPaths() {
		masked = append(masked, path.Join(m.Sys, rel))
	}
	for _, rel := range readonlyProcPaths() {
		readonly = append(readonly, path.Join(m.Proc, rel))
	}
	sys := specs.Mount{Destination: m.Sys, Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}
	if p.Network != NetworkNone && !idmap.InInitialNamespace() {
		// Rootless in the host's network namespace, which this user
		// namespace does not own: no sysfs can be mounted (see mountSys).
		sys = specs.Mount{Destination: m.Sys, Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro", "rro"}}
	}
	mounts := []specs.Mount{
		{Destination: m.Proc, Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: m.Dev, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: path.Join(m.Dev, "pts"), Type: "devpts", Source: "devpts", Options: append([]string{"nosuid", "noexec"}, devptsOptions()...)},
		{Destination: path.Join(m.Dev, "shm"), Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: path.Join(m.Dev, "mqueue"), Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		sys,
		{Destination: m.Hosts, Type: "bind", Source: pl.hostsFile, Options: []string{"bind", "ro", "nosuid", "nodev", "noexec"}},
		{Destination: m.ResolvConf, Type: "bind", Source: pl.resolvFile, Options: []string{"bind", "ro", "nosuid", "nodev", "noexec"}},
	}
	user, userReadonly := userMountSpecs(pl.userMounts)
	mounts = append(mounts, user...)
	readonly = append(readonly, userReadonly...)
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{
				UID:            p.UID,
				GID:            p.GID,
				AdditionalGids: p.AdditionalGIDs,
				Umask:          &umask,
			},
			Args: p.Args,
			Env:  p.Env,
			Cwd:  p.Cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps,
				Effective: caps,
				Permitted: caps,
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: nofile, Soft: nofile}},
		},
		Root:     &specs.Root{Path: pl.rootfs},
		Hostname: p.Hostname,
		Mounts:   mounts,
		Linux: &specs.Linux{
			Namespaces:        namespaces,
			RootfsPropagation: "rprivate",
			MaskedPaths:       masked,
			ReadonlyPaths:     readonly,
		},
	}
}

// userMountSpecs returns the runtime's mounts for the process's mounts, in order, and
// the read-only tmpfs targets, which the runtime makes read-only (as ReadonlyPaths)
// after all mounts, once later mount points in them exist. The runtime creates the
// mount points inside earlier tmpfs mounts itself.
func userMountSpecs(ms []plannedMount) (mounts []specs.Mount, readonly []string) {
	for _, m := range ms {
		sm := specs.Mount{Destination: m.Target, Source: m.Source, Type: "bind"}
		switch m.Type {
		case MountBind:
			sm.Options = []string{"rbind", "rprivate"}
			if m.ReadOnly {
				// ro for the mount itself, rro (mount_setattr) for what is below it.
				sm.Options = append(sm.Options, "ro", "rro")
			}
		case MountFile:
			sm.Options = []string{"bind", "rprivate", "ro", "nosuid", "nodev", "noexec"}
		case MountTmpfs:
			sm.Type, sm.Source = "tmpfs", "tmpfs"
			sm.Options = append([]string{"nosuid", "nodev"}, m.Options...)
			if m.ReadOnly {
				readonly = append(readonly, m.Target)
			}
		}
		mounts = append(mounts, sm)
	}
	return mounts, readonly
}
