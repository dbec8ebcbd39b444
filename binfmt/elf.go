package binfmt

import (
	"encoding/binary"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// elfArch is what the start of an ELF file says of its architecture.
type elfArch struct {
	class   byte   // EI_CLASS: 1 for 32 bits, 2 for 64
	data    byte   // EI_DATA: 1 little-endian, 2 big-endian
	machine uint16 // e_machine
	qemu    string // the name of QEMU's emulator and handler (qemu-aarch64)
}

// elfArchs are the architectures Check knows, by GOARCH name; their
// bytes are those of QEMU's handlers (scripts/qemu-binfmt-conf.sh).
var elfArchs = map[string]elfArch{
	"amd64":    {2, 1, 62, "x86_64"},
	"386":      {1, 1, 3, "i386"},
	"arm64":    {2, 1, 183, "aarch64"},
	"arm":      {1, 1, 40, "arm"},
	"ppc64le":  {2, 1, 21, "ppc64le"},
	"s390x":    {2, 2, 22, "s390x"},
	"riscv64":  {2, 1, 243, "riscv64"},
	"mips64le": {2, 1, 8, "mips64el"},
	"loong64":  {2, 1, 258, "loongarch64"},
}

// platforms are the platforms of elfArchs, in Platforms' order.
var platforms = []ocispec.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "386"},
	{OS: "linux", Architecture: "arm64"},
	{OS: "linux", Architecture: "arm", Variant: "v7"},
	{OS: "linux", Architecture: "arm", Variant: "v6"},
	{OS: "linux", Architecture: "arm", Variant: "v5"},
	{OS: "linux", Architecture: "ppc64le"},
	{OS: "linux", Architecture: "s390x"},
	{OS: "linux", Architecture: "riscv64"},
	{OS: "linux", Architecture: "mips64le"},
	{OS: "linux", Architecture: "loong64"},
}

// Platforms are the platforms Check knows the binaries of.
func Platforms() []ocispec.Platform {
	return append([]ocispec.Platform(nil), platforms...)
}

// headers are the first 20 bytes (e_ident, e_type, e_machine) of the
// binaries of a: executables and shared objects (PIE), with the System V
// or the GNU OS ABI (static glibc binaries with IFUNCs carry the latter).
// A handler serves a only when it matches all of them.
func (a elfArch) headers() [][]byte {
	var out [][]byte
	for _, typ := range []uint16{2, 3} { // ET_EXEC, ET_DYN
		for _, osabi := range []byte{0, 3} { // ELFOSABI_SYSV, ELFOSABI_GNU
			h := make([]byte, 20)
			copy(h, "\x7fELF")
			h[4], h[5], h[6], h[7] = a.class, a.data, 1, osabi
			var order binary.ByteOrder = binary.LittleEndian
			if a.data == 2 {
				order = binary.BigEndian
			}
			order.PutUint16(h[16:], typ)
			order.PutUint16(h[18:], a.machine)
			out = append(out, h)
		}
	}
	return out
}
