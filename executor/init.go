package executor

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
)

// initArg0 and initArg1 mark a process started as the built-in executor's init.
const (
	initArg0 = "minibuild-executor-init"
	initArg1 = "--minibuild-executor-init-v1"
)

// The init inherits its configuration pipe and its error pipe at these descriptors.
const (
	initConfigFD = 3
	initErrorFD  = 4
)

// initConfig is what the built-in executor hands its init over the configuration pipe.
type initConfig struct {
	Rootfs     string      `json:"rootfs"`
	Mounts     mountPoints `json:"mounts"`
	HostsFile  string      `json:"hostsFile"`
	ResolvFile string      `json:"resolvFile"`
	Args       []string    `json:"args"`
	Env        []string    `json:"env"`
	Cwd        string      `json:"cwd"`
	UID        uint32      `json:"uid"`
	GID        uint32      `json:"gid"`
	Groups     []uint32    `json:"groups"`
	Hostname   string      `json:"hostname"`
	NewNetwork bool        `json:"newNetwork"`
	Nofile     uint64      `json:"nofile"`
	// UserMounts are the process's mounts, mounted after the standard ones.
	UserMounts []plannedMount `json:"userMounts,omitempty"`
}

// Init is the re-exec hook of the built-in executor; call it first thing in main (and in
// TestMain). When the process was started as the executor's init, Init sets up the new
// namespaces, changes root into the rootfs and executes the user's command: it never
// returns. Otherwise it returns false at once.
func Init() bool {
	if len(os.Args) != 2 || os.Args[0] != initArg0 || os.Args[1] != initArg1 {
		return false
	}
	// Mounts, credentials and the final exec must all happen on this one thread.
	runtime.LockOSThread()
	errPipe := os.NewFile(initErrorFD, "init-error")
	err := runInit(os.NewFile(initConfigFD, "init-config"))
	// runInit returns only when something failed; the parent reports the message.
	fmt.Fprint(errPipe, err)
	os.Exit(1)
	return true
}

// runInit reads the configuration, prepares the container and executes the command.
func runInit(cfgFile *os.File) error {
	if cfgFile == nil {
		return fmt.Errorf("executor init: no configuration descriptor")
	}
	raw, err := io.ReadAll(cfgFile)
	cfgFile.Close()
	if err != nil {
		return fmt.Errorf("reading init configuration: %w", err)
	}
	var cfg initConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("decoding init configuration: %w", err)
	}
	if len(cfg.Args) == 0 {
		return fmt.Errorf("executor init: no command")
	}
	if err := setupRootfs(&cfg); err != nil {
		return err
	}
	return execProcess(&cfg)
}
