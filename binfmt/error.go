package binfmt

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/internal/platform"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Problem is why the binaries of a platform cannot run here.
type Problem int

const (
	// NotMounted: binfmt_misc is not mounted, so no handler can be.
	NotMounted Problem = iota + 1
	// Disabled: binfmt_misc's status is disabled; the kernel uses no handler.
	Disabled
	// NoHandler: no handler matches the platform's binaries (or one
	// matches only some of them: Error.Handler).
	NoHandler
	// NotRegistered: no handler matches, but a systemd-binfmt file
	// (Error.Conf) would register one.
	NotRegistered
	// HandlerDisabled: the handler that matches is disabled.
	HandlerDisabled
	// NoFixBinary: the handler that matches lacks the F flag, so the
	// kernel looks its interpreter up inside the image's root file system.
	NoFixBinary
	// DynamicInterpreter: the handler's interpreter needs a program
	// loader and libraries, which the image's root file system lacks.
	DynamicInterpreter
)

// String is the problem's name.
func (p Problem) String() string {
	switch p {
	case NotMounted:
		return "not mounted"
	case Disabled:
		return "disabled"
	case NoHandler:
		return "no handler"
	case NotRegistered:
		return "not registered"
	case HandlerDisabled:
		return "handler disabled"
	case NoFixBinary:
		return "no F flag"
	case DynamicInterpreter:
		return "dynamic interpreter"
	}
	return fmt.Sprintf("Problem(%d)", int(p))
}

// Error says why this machine cannot run the binaries of Platform, and
// what fixes it.
type Error struct {
	Platform ocispec.Platform
	// Host is the machine's architecture (GOARCH).
	Host    string
	Problem Problem
	// Handler is the handler at fault, when one is.
	Handler Handler
	// Dir is binfmt_misc's mount point.
	Dir string
	// NoDir says that Dir does not exist (NotMounted).
	NoDir bool
	// Conf is the systemd-binfmt file that registers the handler, when
	// there is one, and ConfFlags the flags it registers it with.
	Conf, ConfFlags string
	// Native is why the kernel does not run them itself, for an
	// architecture it could (386 on amd64, arm on arm64).
	Native error
}

// Error says what is missing and what fixes it, in one line.
func (e *Error) Error() string { return e.Detail() + ": " + e.Fix() }

// Detail is Error without the fix: what is missing, and why RUN needs it.
func (e *Error) Detail() string {
	plat, dir := platform.Format(e.Platform), e.Dir
	var what string
	switch e.Problem {
	case NotMounted:
		what = "binfmt_misc is not mounted at " + dir
	case Disabled:
		what = fmt.Sprintf("binfmt_misc is disabled (%s says so)", filepath.Join(dir, "status"))
	case NoHandler:
		what = "no binfmt_misc handler for " + plat
		if e.Handler.Name != "" {
			what = fmt.Sprintf("no binfmt_misc handler for all of %s's binaries (%s matches only some)", plat, e.Handler.Name)
		}
	case NotRegistered:
		what = fmt.Sprintf("no binfmt_misc handler for %s is registered (%s has one)", plat, e.Conf)
	case HandlerDisabled:
		what = fmt.Sprintf("the binfmt_misc handler %s for %s is disabled", e.Handler.Name, plat)
	case NoFixBinary:
		what = fmt.Sprintf("the binfmt_misc handler %s for %s lacks the F flag (flags %q), so the kernel looks its interpreter %s up inside the image's root file system, where it is missing",
			e.Handler.Name, plat, e.Handler.Flags, e.Handler.Interpreter)
	case DynamicInterpreter:
		what = fmt.Sprintf("the binfmt_misc handler %s for %s has the F flag but its interpreter %s is dynamically linked: its loader and libraries are missing inside the image's root file system",
			e.Handler.Name, plat, e.Handler.Interpreter)
	default:
		what = fmt.Sprintf("%s binaries cannot run here (%v)", plat, e.Problem)
	}
	arch := e.Platform.Architecture
	why := fmt.Sprintf("RUN of %s binaries on this %s machine needs QEMU user emulation", arch, e.Host)
	if e.Native != nil {
		why = fmt.Sprintf("this %s kernel does not run %s binaries itself: %v", e.Host, arch, e.Native)
	}
	if e.Problem == NoFixBinary || e.Problem == DynamicInterpreter {
		return what
	}
	return what + " (" + why + ")"
}

// Fix is what to run to make the binaries run.
func (e *Error) Fix() string {
	dir := e.Dir
	entry := filepath.Join(dir, e.Handler.Name)
	switch e.Problem {
	case NotMounted:
		mount := "mount -t binfmt_misc binfmt_misc " + dir
		if e.NoDir {
			mount = "modprobe binfmt_misc && " + mount
		}
		return "run '" + mount + "', then " + strings.TrimPrefix(e.register(), "run ")
	case Disabled:
		return "run 'echo 1 > " + filepath.Join(dir, "status") + "'"
	case NotRegistered:
		return e.register()
	case HandlerDisabled:
		return "run 'echo 1 > " + entry + "'"
	case NoFixBinary:
		return "re-register it with F: run 'echo -1 > " + entry + "', then " + strings.TrimPrefix(e.reregister(), "run ")
	case DynamicInterpreter:
		return "register a static interpreter: run 'echo -1 > " + entry + "', then " + strings.TrimPrefix(e.install(), "run ")
	}
	return e.install()
}

// install says how to install and register QEMU's handler of the
// platform's architecture.
func (e *Error) install() string {
	arch := e.Platform.Architecture
	tonistiigi := "'docker run --privileged --rm tonistiigi/binfmt --install " + arch + "'"
	switch {
	case e.Host == "amd64" && arch == "386":
		// Debian registers no x86 emulator on x86.
		return "run " + tonistiigi + ", or boot a kernel with IA32 emulation (CONFIG_IA32_EMULATION=y, without ia32_emulation=0)"
	case e.Host == "arm64" && arch == "arm":
		return "run " + tonistiigi + ", or use a CPU and kernel that run 32-bit arm code (AArch32, CONFIG_COMPAT)"
	}
	return "run 'apt-get install qemu-user-static' (Debian/Ubuntu), or " + tonistiigi
}

// register says how to register the handler of Conf, or install one.
func (e *Error) register() string {
	if e.Conf == "" {
		return e.install()
	}
	s := "run 'systemctl restart systemd-binfmt', or without systemd 'grep ^: " + e.Conf + " > " + filepath.Join(e.Dir, "register") + "'"
	if !strings.ContainsRune(e.ConfFlags, 'F') {
		s += " after adding F to the flags that end its line"
	}
	return s
}

// reregister says how to register the handler again with F.
func (e *Error) reregister() string {
	if e.Conf != "" {
		return e.register()
	}
	name := e.Handler.Name
	return "with binfmt-support 'update-binfmts --disable " + name + " && update-binfmts --enable " + name + "' (after 'fix_binary yes' in /usr/share/binfmts/" + name + "), or " + strings.TrimPrefix(e.install(), "run ")
}
