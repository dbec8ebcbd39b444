package binfmt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// probes are, by architecture, the code of a tiny static executable that
// exits 0 at once, and the ELF header fields it needs.
var probes = map[string]struct {
	machine uint16
	flags   uint32
	code    []byte
}{
	// mov eax, 1 (exit); xor ebx, ebx; int 0x80
	"386": {3, 0, []byte{0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xcd, 0x80}},
	// mov r7, #1 (exit); mov r0, #0; svc #0 — EABI 5, which arm64's
	// kernel demands of 32-bit binaries.
	"arm": {40, 0x05000000, []byte{0x01, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef}},
}

// probeELF is the probe of arch: a 32-bit little-endian ELF executable of
// one loadable segment (header, program header, code) at 0x10000.
func probeELF(arch string) ([]byte, bool) {
	p, ok := probes[arch]
	if !ok {
		return nil, false
	}
	const ehsize, phsize, base = 52, 32, 0x10000
	b := make([]byte, ehsize+phsize, ehsize+phsize+len(p.code))
	le := binary.LittleEndian
	copy(b, "\x7fELF\x01\x01\x01")
	le.PutUint16(b[16:], 2) // ET_EXEC
	le.PutUint16(b[18:], p.machine)
	le.PutUint32(b[20:], 1)                  // EV_CURRENT
	le.PutUint32(b[24:], base+ehsize+phsize) // entry
	le.PutUint32(b[28:], ehsize)             // program headers
	le.PutUint32(b[36:], p.flags)
	le.PutUint16(b[40:], ehsize)
	le.PutUint16(b[42:], phsize)
	le.PutUint16(b[44:], 1)
	ph := b[ehsize:]
	size := uint32(ehsize + phsize + len(p.code))
	le.PutUint32(ph[0:], 1) // PT_LOAD, from offset 0
	le.PutUint32(ph[8:], base)
	le.PutUint32(ph[12:], base)
	le.PutUint32(ph[16:], size)
	le.PutUint32(ph[20:], size)
	le.PutUint32(ph[24:], 5) // R+X
	le.PutUint32(ph[28:], 0x1000)
	return append(b, p.code...), true
}

// runProbe runs the probe of arch, from memory (a memfd) or else from
// a temporary file; nil says it ran and exited 0.
func runProbe(arch string) error {
	code, ok := probeELF(arch)
	if !ok {
		return fmt.Errorf("no probe of %s", arch)
	}
	err := runMemfd(code)
	if err != nil && !errors.Is(err, syscall.ENOEXEC) {
		if ferr := runTempFile(code); ferr == nil || errors.Is(ferr, syscall.ENOEXEC) {
			err = ferr
		}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // not the /proc/self/fd path
	}
	if err != nil {
		return fmt.Errorf("a %s probe binary: %w", arch, err)
	}
	return nil
}

// runMemfd runs code from a memfd, opened read-only for the exec (a
// file open for writing cannot be executed).
func runMemfd(code []byte) error {
	fd, err := unix.MemfdCreate("minibuild-binfmt-probe", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	w := os.NewFile(uintptr(fd), "memfd")
	_, err = w.Write(code)
	var r *os.File
	if err == nil {
		r, err = os.Open(fmt.Sprintf("/proc/self/fd/%d", fd))
	}
	w.Close()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/fd/3")
	cmd.ExtraFiles = []*os.File{r}
	return cmd.Run()
}

// runTempFile runs code from a file in the temporary directory.
func runTempFile(code []byte) error {
	dir, err := os.MkdirTemp("", "minibuild-binfmt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, code, 0o700); err != nil {
		return err
	}
	return exec.Command(p).Run()
}
