package binfmt

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestProbeELF: each probe is an executable of its architecture whose
// entry point lies in its one loadable segment.
func TestProbeELF(t *testing.T) {
	for arch, want := range map[string]elf.Machine{"386": elf.EM_386, "arm": elf.EM_ARM} {
		code, ok := probeELF(arch)
		if !ok {
			t.Fatalf("no probe of %s", arch)
		}
		f, err := elf.NewFile(bytes.NewReader(code))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if f.Machine != want || f.Type != elf.ET_EXEC || f.Class != elf.ELFCLASS32 || len(f.Progs) != 1 {
			t.Errorf("%s: %v %v %v, %d program headers", arch, f.Machine, f.Type, f.Class, len(f.Progs))
		}
		p := f.Progs[0]
		if p.Type != elf.PT_LOAD || f.Entry < p.Vaddr || f.Entry >= p.Vaddr+p.Filesz || p.Filesz != uint64(len(code)) {
			t.Errorf("%s: entry %#x outside %+v", arch, f.Entry, p.ProgHeader)
		}
	}
	if _, ok := probeELF("s390x"); ok {
		t.Error("a probe of s390x")
	}
}

// TestProbeRuns runs each probe under QEMU itself (no binfmt_misc), so
// its code is right whatever this kernel runs.
func TestProbeRuns(t *testing.T) {
	for arch := range probes {
		t.Run(arch, func(t *testing.T) {
			qemu, err := exec.LookPath("qemu-" + elfArchs[arch].qemu + "-static")
			if err != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("qemu-user-static is not installed; the test command should have installed it")
				}
				t.Skip("qemu-user-static is not installed (scripts/test.sh installs it)")
			}
			code, _ := probeELF(arch)
			p := filepath.Join(t.TempDir(), "probe")
			if err := os.WriteFile(p, code, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(qemu, p).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", qemu, arch, err, out)
			}
			// And one that exits 1 (mov ebx, 1 / mov r0, #1) fails.
			bad := bytes.Clone(code)
			switch arch {
			case "386":
				bad = append(bad[:len(bad)-2:len(bad)-2], 0x43, 0xcd, 0x80) // xor ebx, ebx; inc ebx
			case "arm":
				bad[len(bad)-8] = 0x01
			}
			if err := os.WriteFile(p, bad, 0o755); err != nil {
				t.Fatal(err)
			}
			var ee *exec.ExitError
			if err := exec.Command(qemu, p).Run(); !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("the probe changed to exit 1: %v", err)
			}
		})
	}
}

// TestRunProbeNoExec: a binary no kernel runs (e_machine 0xffff) gives
// ENOEXEC both from a memfd and from a file.
func TestRunProbeNoExec(t *testing.T) {
	code, _ := probeELF("386")
	code[18], code[19] = 0xff, 0xff
	for name, run := range map[string]func([]byte) error{"memfd": runMemfd, "file": runTempFile} {
		if err := run(code); !errors.Is(err, syscall.ENOEXEC) {
			t.Errorf("%s: %v, want ENOEXEC", name, err)
		}
	}
}

// TestRunProbe386: an amd64 kernel built with IA32 emulation, not
// turned off at boot, runs the 386 probe itself.
func TestRunProbe386(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("not an amd64 machine")
	}
	cfg, err := os.Open("/proc/config.gz")
	if err != nil {
		t.Skip("no /proc/config.gz to tell whether the kernel has IA32 emulation")
	}
	defer cfg.Close()
	zr, err := gzip.NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if cmdline, _ := os.ReadFile("/proc/cmdline"); strings.Contains(string(cmdline), "ia32_emulation=") {
		t.Skip("ia32_emulation= on the kernel command line")
	}
	hs, _ := readHandlers(procDir)
	want := strings.Contains(string(data), "\nCONFIG_IA32_EMULATION=y\n") &&
		!strings.Contains(string(data), "\nCONFIG_IA32_EMULATION_DEFAULT_DISABLED=y\n") &&
		!intercepted(hs, elfArchs["386"])
	for name, run := range map[string]func([]byte) error{"memfd": runMemfd, "file": runTempFile} {
		code, _ := probeELF("386")
		if err := run(code); (err == nil) != want {
			t.Errorf("%s: %v, want it to run: %v", name, err, want)
		}
	}
	if err := runProbe("386"); (err == nil) != want {
		t.Errorf("runProbe: %v, want it to run: %v", err, want)
	}
}
