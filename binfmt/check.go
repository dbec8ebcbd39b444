package binfmt

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/minibuild/minibuild/internal/platform"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// procDir is where binfmt_misc is mounted.
const procDir = "/proc/sys/fs/binfmt_misc"

// Check says whether this machine can run linux binaries of p: nil when
// p's architecture is the machine's, or one its kernel runs itself too
// (386 on amd64, 32-bit arm on arm64, when a probe binary runs), or when
// every binfmt_misc handler that matches its ELF headers is enabled and
// has the F flag, with an interpreter that needs no loader, so that it
// runs inside an image's root file system. Else the error, an *Error for
// a known architecture, names p and says what fixes it. Only the
// architecture is looked at: a variant (arm/v6, amd64/v3) is not.
func Check(p ocispec.Platform) error {
	_, err := Lookup(p)
	return err
}

// Lookup says how this machine runs linux binaries of p: itself (a nil
// Handler) or through the binfmt_misc handler it returns. Its error is
// Check's.
func Lookup(p ocispec.Platform) (*Handler, error) {
	m := machine{host: runtime.GOARCH, dir: procDir, confDirs: []string{"/etc/binfmt.d", "/run/binfmt.d", "/usr/lib/binfmt.d"}, native: runProbe}
	return m.lookup(p)
}

// machine is what Lookup looks at, so that tests can fake it.
type machine struct {
	host     string   // runtime.GOARCH
	dir      string   // binfmt_misc's mount point
	confDirs []string // where systemd-binfmt's files are, by precedence
	// native runs a probe binary of arch; nil when it ran.
	native func(arch string) error
}

func (m machine) lookup(p ocispec.Platform) (*Handler, error) {
	p = platform.Normalize(p)
	if p.OS != "linux" {
		return nil, fmt.Errorf("binfmt: %s: only linux binaries run here", platform.Format(p))
	}
	if p.Architecture == m.host {
		return nil, nil
	}
	a, ok := elfArchs[p.Architecture]
	if !ok {
		return nil, fmt.Errorf("binfmt: cannot tell whether %s binaries run on this %s machine: no ELF header known for %s", platform.Format(p), m.host, p.Architecture)
	}
	e := &Error{Platform: p, Host: m.host, Dir: m.dir}
	hs, err := readHandlers(m.dir)
	switch {
	case errors.Is(err, errNotMounted):
		e.Problem = NotMounted
		if _, err := os.Stat(m.dir); err != nil {
			e.NoDir = true
		}
		e.Conf, e.ConfFlags = m.conf("qemu-" + a.qemu)
	case errors.Is(err, errDisabled):
		e.Problem = Disabled
	case err != nil:
		return nil, fmt.Errorf("binfmt: %w", err)
	default:
		if h := m.serve(hs, a, e); h != nil {
			return h, nil
		}
	}
	if compat[m.host] == p.Architecture && !intercepted(hs, a) {
		// No handler is in the way: the kernel may run them itself.
		if e.Native = m.native(p.Architecture); e.Native == nil {
			return nil, nil
		}
	}
	return nil, e
}

// compat are the architectures a kernel of another may run itself:
// 386 on amd64 (IA32 emulation), 32-bit arm on arm64 (AArch32 at EL0).
var compat = map[string]string{"amd64": "386", "arm64": "arm"}

// serve returns the handler that runs every binary of a, or nil and
// says in e what is wrong.
func (m machine) serve(hs []Handler, a elfArch, e *Error) *Handler {
	var serving *Handler
	for _, header := range a.headers() {
		var enabled, disabled []Handler
		for _, h := range hs {
			switch {
			case !h.Matches(header):
			case h.Enabled:
				enabled = append(enabled, h)
			default:
				disabled = append(disabled, h)
			}
		}
		switch {
		case len(enabled) == 0 && len(disabled) > 0:
			e.Problem, e.Handler = HandlerDisabled, disabled[0]
			return nil
		case len(enabled) == 0 && serving != nil:
			e.Problem, e.Handler = NoHandler, *serving // it matches some headers, not all
			return nil
		case len(enabled) == 0:
			e.Problem = NoHandler
			if e.Conf, e.ConfFlags = m.conf("qemu-" + a.qemu); e.Conf != "" {
				e.Problem = NotRegistered
			}
			return nil
		}
		// The kernel uses the one registered last, which its files do
		// not tell: every one must do.
		for _, h := range enabled {
			switch {
			case !h.FixBinary():
				e.Problem, e.Handler = NoFixBinary, h
			case dynamic(h.Interpreter):
				e.Problem, e.Handler = DynamicInterpreter, h
			default:
				continue
			}
			e.Conf, e.ConfFlags = m.conf(h.Name)
			return nil
		}
		if serving == nil {
			serving = &enabled[0]
		}
	}
	return serving
}

// intercepted says whether an enabled handler matches a binary of a:
// the kernel then runs it through the handler, not itself.
func intercepted(hs []Handler, a elfArch) bool {
	for _, header := range a.headers() {
		for _, h := range hs {
			if h.Enabled && h.Matches(header) {
				return true
			}
		}
	}
	return false
}

// conf finds the systemd-binfmt file that registers the handler name,
// and the flags its line gives it.
func (m machine) conf(name string) (path, flags string) {
	for _, d := range m.confDirs {
		p := filepath.Join(d, name+".conf")
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, ":") {
				return p, l[strings.LastIndex(l, ":")+1:]
			}
		}
	}
	return "", ""
}

// dynamic says whether the interpreter at path, as far as it can be
// read, asks for a program loader (PT_INTERP), which an image's root
// file system does not have for it.
func dynamic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}
