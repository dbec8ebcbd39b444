package binfmt

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// QEMU's magic and mask of a few architectures, as the kernel shows them.
const (
	aarch64Magic = "7f454c460201010000000000000000000200b700"
	aarch64Mask  = "ffffffffffffff00fffffffffffffffffeffffff"
	armMagic     = "7f454c4601010100000000000000000002002800"
	i386Magic    = "7f454c4601010100000000000000000002000300"
	i386Mask     = "fffffffffffefe00fffffffffffffffffeffffff"
)

// entry is a handler's file as the kernel writes it.
func entry(enabled bool, interpreter, flags, magic, mask string) string {
	s := "disabled\n"
	if enabled {
		s = "enabled\n"
	}
	s += "interpreter " + interpreter + "\nflags: " + flags + "\noffset 0\nmagic " + magic + "\n"
	if mask != "" {
		s += "mask " + mask + "\n"
	}
	return s
}

// fakeMount makes a binfmt_misc mount of status ("" for none: not
// mounted) and the handlers named in entries.
func fakeMount(t *testing.T, status string, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if status == "" {
		return dir
	}
	files := map[string]string{"status": status + "\n", "register": ""}
	for name, e := range entries {
		files[name] = e
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeELF writes a 64-bit ELF header with one program header of type
// typ (3: PT_INTERP, 1: PT_LOAD), enough for debug/elf.
func fakeELF(t *testing.T, typ uint32) string {
	t.Helper()
	b := make([]byte, 64+56)
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 2)
	le.PutUint16(b[18:], 62)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], 1)  // e_phnum
	le.PutUint32(b[64:], typ)
	p := filepath.Join(t.TempDir(), "qemu-aarch64-static")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	arm64 = ocispec.Platform{OS: "linux", Architecture: "arm64"}
	i386  = ocispec.Platform{OS: "linux", Architecture: "386"}
)

func TestLookup(t *testing.T) {
	static, dynamic := fakeELF(t, 1), fakeELF(t, 3)
	good := entry(true, static, "POF", aarch64Magic, aarch64Mask)
	confs := t.TempDir()
	if err := os.WriteFile(filepath.Join(confs, "qemu-aarch64.conf"),
		[]byte("# QEMU\n:qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noF := t.TempDir()
	if err := os.WriteFile(filepath.Join(noF, "qemu-aarch64.conf"), []byte(":qemu-aarch64:M::\\x7fELF::/usr/bin/qemu-aarch64-static:P\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nativeOK := func(string) error { return nil }
	nativeNo := func(arch string) error { return errors.New("a " + arch + " probe binary: exec format error") }
	for _, tc := range []struct {
		name     string
		host     string
		p        ocispec.Platform
		dir      string
		confDirs []string
		native   func(string) error
		handler  string  // the handler found, when no error
		problem  Problem // the *Error's problem, else 0
		msg      []string
	}{
		{name: "F handler", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": good}), handler: "qemu-aarch64"},
		{name: "Debian 12", p: arm64, dir: "testdata/debian12", handler: "qemu-aarch64"},
		{name: "arm variant", p: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, dir: "testdata/debian12", handler: "qemu-arm"},
		{name: "big-endian s390x", p: ocispec.Platform{OS: "linux", Architecture: "s390x"}, dir: "testdata/debian12", handler: "qemu-s390x"},
		{name: "host", p: ocispec.Platform{OS: "linux", Architecture: "amd64"}, dir: fakeMount(t, "", nil)},
		{name: "host aarch64 spelling", host: "arm64", p: ocispec.Platform{OS: "linux", Architecture: "aarch64"}, dir: fakeMount(t, "", nil)},
		{name: "no F", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": entry(true, "/usr/bin/qemu-aarch64-static", "P", aarch64Magic, aarch64Mask)}),
			problem: NoFixBinary, msg: []string{"the binfmt_misc handler qemu-aarch64 for linux/arm64 lacks the F flag (flags \"P\"), so the kernel looks its interpreter /usr/bin/qemu-aarch64-static up inside the image's root file system",
				"re-register it with F: run 'echo -1 > ", "/qemu-aarch64', then with binfmt-support 'update-binfmts --disable qemu-aarch64 && update-binfmts --enable qemu-aarch64'", "tonistiigi/binfmt --install arm64"}},
		{name: "no F, conf", p: arm64, confDirs: []string{confs}, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": entry(true, "/usr/bin/qemu-aarch64-static", "P", aarch64Magic, aarch64Mask)}),
			problem: NoFixBinary, msg: []string{"then 'systemctl restart systemd-binfmt', or without systemd 'grep ^: " + confs + "/qemu-aarch64.conf > "}},
		{name: "one of two without F", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": good, "zz-aarch64": entry(true, static, "", aarch64Magic, aarch64Mask)}),
			problem: NoFixBinary, msg: []string{"zz-aarch64 for linux/arm64 lacks the F flag"}},
		{name: "a disabled one beside", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": good, "zz-aarch64": entry(false, static, "", aarch64Magic, aarch64Mask)}), handler: "qemu-aarch64"},
		{name: "disabled handler", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": entry(false, static, "POF", aarch64Magic, aarch64Mask)}),
			problem: HandlerDisabled, msg: []string{"the binfmt_misc handler qemu-aarch64 for linux/arm64 is disabled (RUN of arm64 binaries on this amd64 machine needs QEMU user emulation): run 'echo 1 > ", "/qemu-aarch64'"}},
		{name: "status disabled", p: arm64, dir: fakeMount(t, "disabled", map[string]string{"qemu-aarch64": good}),
			problem: Disabled, msg: []string{"binfmt_misc is disabled (", "/status says so) (RUN of arm64 binaries on this amd64 machine needs QEMU user emulation): run 'echo 1 > ", "/status'"}},
		{name: "not mounted", p: arm64, dir: fakeMount(t, "", nil),
			problem: NotMounted, msg: []string{"binfmt_misc is not mounted at ", ": run 'mount -t binfmt_misc binfmt_misc ", "', then 'apt-get install qemu-user-static' (Debian/Ubuntu), or 'docker run --privileged --rm tonistiigi/binfmt --install arm64'"}},
		{name: "not mounted, conf", p: arm64, confDirs: []string{confs}, dir: fakeMount(t, "", nil),
			problem: NotMounted, msg: []string{"', then 'systemctl restart systemd-binfmt', or without systemd 'grep ^: " + confs + "/qemu-aarch64.conf > "}},
		{name: "no binfmt_misc", p: arm64, dir: "/nonexistent/binfmt_misc",
			problem: NotMounted, msg: []string{"run 'modprobe binfmt_misc && mount -t binfmt_misc binfmt_misc /nonexistent/binfmt_misc', then"}},
		{name: "wrong magic", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-arm": entry(true, static, "POF", armMagic, aarch64Mask)}),
			problem: NoHandler, msg: []string{"no binfmt_misc handler for linux/arm64 (RUN of arm64 binaries on this amd64 machine needs QEMU user emulation): run 'apt-get install qemu-user-static' (Debian/Ubuntu), or 'docker run --privileged --rm tonistiigi/binfmt --install arm64'"}},
		{name: "empty", p: arm64, dir: fakeMount(t, "enabled", nil), problem: NoHandler},
		{name: "not registered", p: arm64, confDirs: []string{confs}, dir: fakeMount(t, "enabled", nil),
			problem: NotRegistered, msg: []string{"no binfmt_misc handler for linux/arm64 is registered (" + confs + "/qemu-aarch64.conf has one)", "run 'systemctl restart systemd-binfmt'"}},
		{name: "not registered, conf without F", p: arm64, confDirs: []string{noF}, dir: fakeMount(t, "enabled", nil),
			problem: NotRegistered, msg: []string{"after adding F to the flags that end its line"}},
		{name: "mask: exact e_type", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"exec-only": entry(true, static, "F", aarch64Magic, "ffffffffffffff00ffffffffffffffffffffffff")}),
			problem: NoHandler, msg: []string{"no binfmt_misc handler for all of linux/arm64's binaries (exec-only matches only some)"}},
		{name: "mask: none", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"exact": entry(true, static, "F", aarch64Magic, "")}),
			problem: NoHandler, msg: []string{"(exact matches only some)"}},
		{name: "mask: e_ident only", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"any64": entry(true, static, "F", aarch64Magic, "ffffffffffffff00ffffffffffffffff00000000")}), handler: "any64"},
		{name: "dynamic interpreter", p: arm64, dir: fakeMount(t, "enabled", map[string]string{"qemu-aarch64": entry(true, dynamic, "OCF", aarch64Magic, aarch64Mask)}),
			problem: DynamicInterpreter, msg: []string{"has the F flag but its interpreter " + dynamic + " is dynamically linked", "register a static interpreter: run 'echo -1 > "}},
		{name: "386 native", p: i386, dir: fakeMount(t, "enabled", nil), native: nativeOK},
		{name: "386 native, not mounted", p: i386, dir: fakeMount(t, "", nil), native: nativeOK},
		{name: "386 native, disabled handler", p: i386, dir: fakeMount(t, "enabled", map[string]string{"qemu-i386": entry(false, "/x", "", i386Magic, i386Mask)}), native: nativeOK},
		{name: "386 not native", p: i386, dir: fakeMount(t, "enabled", nil), native: nativeNo,
			problem: NoHandler, msg: []string{"no binfmt_misc handler for linux/386 (this amd64 kernel does not run 386 binaries itself: a 386 probe binary: exec format error): run 'docker run --privileged --rm tonistiigi/binfmt --install 386', or boot a kernel with IA32 emulation"}},
		{name: "386 handler first", p: i386, dir: fakeMount(t, "enabled", map[string]string{"qemu-i386": entry(true, "/x", "", i386Magic, i386Mask)}), native: nativeOK,
			problem: NoFixBinary, msg: []string{"qemu-i386 for linux/386 lacks the F flag"}},
		{name: "386 F handler", p: i386, dir: fakeMount(t, "enabled", map[string]string{"qemu-i386": entry(true, static, "F", i386Magic, i386Mask)}), native: nativeNo, handler: "qemu-i386"},
		{name: "arm on arm64 not native", host: "arm64", p: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, dir: fakeMount(t, "enabled", nil), native: nativeNo,
			problem: NoHandler, msg: []string{"this arm64 kernel does not run arm binaries itself", "or use a CPU and kernel that run 32-bit arm code"}},
		{name: "386 on arm64", host: "arm64", p: i386, dir: fakeMount(t, "enabled", nil), native: nativeOK,
			problem: NoHandler, msg: []string{"RUN of 386 binaries on this arm64 machine needs QEMU user emulation): run 'apt-get install qemu-user-static'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := machine{host: tc.host, dir: tc.dir, confDirs: tc.confDirs, native: tc.native}
			if m.host == "" {
				m.host = "amd64"
			}
			if m.native == nil {
				m.native = func(arch string) error { t.Fatalf("probe of %s run", arch); return nil }
			}
			h, err := m.lookup(tc.p)
			if tc.problem == 0 {
				name := ""
				if h != nil {
					name = h.Name
				}
				if err != nil || name != tc.handler {
					t.Fatalf("got %q, %v; want %q", name, err, tc.handler)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Problem != tc.problem || h != nil {
				t.Fatalf("got %v, %v; want a %v error", h, err, tc.problem)
			}
			for _, w := range tc.msg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") || !strings.HasSuffix(err.Error(), e.Fix()) {
				t.Errorf("error %q is not one line ending in its fix %q", err, e.Fix())
			}
		})
	}
}

// TestLookupExact: the whole message of the usual case.
func TestLookupExact(t *testing.T) {
	m := machine{host: "amd64", dir: fakeMount(t, "enabled", nil)}
	_, err := m.lookup(arm64)
	want := "no binfmt_misc handler for linux/arm64 (RUN of arm64 binaries on this amd64 machine needs QEMU user emulation): run 'apt-get install qemu-user-static' (Debian/Ubuntu), or 'docker run --privileged --rm tonistiigi/binfmt --install arm64'"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestLookupOther(t *testing.T) {
	m := machine{host: "amd64", dir: "testdata/debian12"}
	for _, tc := range []struct {
		p   ocispec.Platform
		err string
	}{
		{ocispec.Platform{OS: "windows", Architecture: "arm64"}, "binfmt: windows/arm64: only linux binaries run here"},
		{ocispec.Platform{OS: "linux", Architecture: "sparc64"}, "binfmt: cannot tell whether linux/sparc64 binaries run on this amd64 machine: no ELF header known for sparc64"},
	} {
		_, err := m.lookup(tc.p)
		var e *Error
		if err == nil || err.Error() != tc.err || errors.As(err, &e) {
			t.Errorf("lookup(%v) = %v, want %q", tc.p, err, tc.err)
		}
	}
	bad := fakeMount(t, "enabled", map[string]string{"broken": "enabled\ninterpreter /x\n"})
	if _, err := (machine{host: "amd64", dir: bad}).lookup(arm64); err == nil || !strings.Contains(err.Error(), "binfmt_misc handler broken: neither magic nor extension") {
		t.Errorf("a broken entry: %v", err)
	}
}

// TestHeaders: every architecture's headers are the ones QEMU's own
// handler matches, ET_EXEC and ET_DYN, either OS ABI.
func TestHeaders(t *testing.T) {
	qemu := map[string][2]string{ // scripts/qemu-binfmt-conf.sh
		"amd64":    {"7f454c4602010100000000000000000002003e00", "fffffffffffefe00fffffffffffffffffeffffff"},
		"386":      {i386Magic, i386Mask},
		"arm64":    {aarch64Magic, aarch64Mask},
		"arm":      {armMagic, "ffffffffffffff00fffffffffffffffffeffffff"},
		"ppc64le":  {"7f454c4602010100000000000000000002001500", "fffffffffffffffcfffffffffffffffffeffff00"},
		"s390x":    {"7f454c4602020100000000000000000000020016", "fffffffffffffffcfffffffffffffffffffeffff"},
		"riscv64":  {"7f454c460201010000000000000000000200f300", "ffffffffffffff00fffffffffffffffffeffffff"},
		"mips64le": {"7f454c4602010100000000000000000002000800", "ffffffffffffff00fefffffffffffffffeffffff"},
		"loong64":  {"7f454c4602010100000000000000000002000201", "fffffffffffffffc00fffffffffffffffeffffff"},
	}
	if len(qemu) != len(elfArchs) {
		t.Fatalf("%d architectures, %d QEMU handlers", len(elfArchs), len(qemu))
	}
	for arch, a := range elfArchs {
		hs := a.headers()
		if len(hs) != 4 {
			t.Fatalf("%s: %d headers", arch, len(hs))
		}
		for other, mm := range qemu {
			h := Handler{Magic: unhex(t, mm[0]), Mask: unhex(t, mm[1])}
			for _, header := range hs {
				if got := h.Matches(header); got != (other == arch) {
					t.Errorf("QEMU's %s handler matches %s header %x: %v", other, arch, header, got)
				}
			}
		}
	}
	for _, p := range Platforms() {
		if _, ok := elfArchs[p.Architecture]; !ok {
			t.Errorf("Platforms lists %s, which has no ELF header", p.Architecture)
		}
	}
}
