package executor

import "golang.org/x/sys/unix"

// capability is one Linux capability by name and number.
type capability struct {
	name string
	num  int
}

// defaultCapabilities returns Docker's default capability set.
func defaultCapabilities() []capability {
	return []capability{
		{"CAP_CHOWN", unix.CAP_CHOWN},
		{"CAP_DAC_OVERRIDE", unix.CAP_DAC_OVERRIDE},
		{"CAP_FSETID", unix.CAP_FSETID},
		{"CAP_FOWNER", unix.CAP_FOWNER},
		{"CAP_MKNOD", unix.CAP_MKNOD},
		{"CAP_NET_RAW", unix.CAP_NET_RAW},
		{"CAP_SETGID", unix.CAP_SETGID},
		{"CAP_SETUID", unix.CAP_SETUID},
		{"CAP_SETFCAP", unix.CAP_SETFCAP},
		{"CAP_SETPCAP", unix.CAP_SETPCAP},
		{"CAP_NET_BIND_SERVICE", unix.CAP_NET_BIND_SERVICE},
		{"CAP_SYS_CHROOT", unix.CAP_SYS_CHROOT},
		{"CAP_KILL", unix.CAP_KILL},
		{"CAP_AUDIT_WRITE", unix.CAP_AUDIT_WRITE},
	}
}

// defaultCapabilityNames returns the names of Docker's default capabilities.
func defaultCapabilityNames() []string {
	caps := defaultCapabilities()
	names := make([]string, len(caps))
	for i, c := range caps {
		names[i] = c.name
	}
	return names
}

// maskedProcPaths are the proc entries Docker hides, relative to the proc mount.
func maskedProcPaths() []string {
	return []string{"asound", "acpi", "interrupts", "kcore", "keys", "latency_stats", "timer_list", "timer_stats", "sched_debug", "scsi"}
}

// maskedSysPaths are the sysfs entries Docker hides, relative to the sys mount.
func maskedSysPaths() []string {
	return []string{"firmware", "devices/virtual/powercap"}
}

// readonlyProcPaths are the proc entries Docker makes read-only, relative to the proc mount.
func readonlyProcPaths() []string {
	return []string{"bus", "fs", "irq", "sys", "sysrq-trigger"}
}
