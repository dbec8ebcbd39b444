package binfmt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Handler is one binary format registered with binfmt_misc, as its file
// in /proc/sys/fs/binfmt_misc describes it.
type Handler struct {
	// Name is the entry's file name (qemu-aarch64).
	Name string
	// Enabled says whether the kernel uses the handler.
	Enabled bool
	// Interpreter is the program the kernel runs a matching binary with.
	Interpreter string
	// Flags are the letters (P, O, C, F) the handler was registered with.
	Flags string
	// Offset is where in a file Magic is compared.
	Offset int
	// Magic is the bytes a file must have at Offset, under Mask; nil for
	// a handler that matches by Extension.
	Magic []byte
	// Mask selects the bits of Magic compared; nil compares them all.
	Mask []byte
	// Extension is the file name extension a handler without Magic matches.
	Extension string
}

// FixBinary says whether the handler has the F flag: the kernel opened
// its interpreter when it was registered, so it runs in any root file
// system, an image's included.
func (h Handler) FixBinary() bool { return strings.ContainsRune(h.Flags, 'F') }

// Matches says whether a file that starts with header is one of h's,
// as the kernel decides it: each byte of Magic equals the header's at
// Offset in the bits Mask selects. A handler by extension, or whose
// magic reaches past header, does not match.
func (h Handler) Matches(header []byte) bool {
	if h.Magic == nil || h.Offset < 0 || h.Offset+len(h.Magic) > len(header) {
		return false
	}
	if h.Mask != nil && len(h.Mask) != len(h.Magic) {
		return false
	}
	for i, m := range h.Magic {
		mask := byte(0xff)
		if h.Mask != nil {
			mask = h.Mask[i]
		}
		if (header[h.Offset+i]^m)&mask != 0 {
			return false
		}
	}
	return true
}

// errNotMounted is readHandlers' error when dir holds no binfmt_misc.
var errNotMounted = errors.New("binfmt_misc is not mounted")

// errDisabled is readHandlers' error when binfmt_misc's status is
// disabled: the kernel uses none of its handlers.
var errDisabled = errors.New("binfmt_misc is disabled")

// readHandlers reads every handler registered in dir (a binfmt_misc
// mount), sorted by name.
func readHandlers(dir string) ([]Handler, error) {
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotMounted
	}
	if err != nil {
		return nil, fmt.Errorf("reading binfmt_misc status: %w", err)
	}
	if strings.TrimSpace(string(status)) == "disabled" {
		return nil, errDisabled
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing binfmt_misc handlers: %w", err)
	}
	var hs []Handler
	for _, e := range entries {
		if e.Name() == "status" || e.Name() == "register" || e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // unregistered meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("reading binfmt_misc handler: %w", err)
		}
		h, err := parseHandler(e.Name(), data)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	return hs, nil
}

// parseHandler parses a handler's file, as the kernel writes it:
//
//	enabled
//	interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
//	flags: POF
//	offset 0
//	magic 7f454c460201010000000000000000000200b700
//	mask ffffffffffffff00fffffffffffffffffeffffff
//
// (or "extension .EXT" instead of offset, magic and mask).
func parseHandler(name string, data []byte) (Handler, error) {
	h := Handler{Name: name}
	bad := func(format string, a ...any) (Handler, error) {
		return Handler{}, fmt.Errorf("binfmt_misc handler %s: %s", name, fmt.Sprintf(format, a...))
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	switch lines[0] {
	case "enabled":
		h.Enabled = true
	case "disabled":
	default:
		return bad("first line %q is neither enabled nor disabled", lines[0])
	}
	for _, l := range lines[1:] {
		key, value, _ := strings.Cut(l, " ")
		var err error
		switch key {
		case "interpreter":
			h.Interpreter = value
		case "flags:":
			h.Flags = value
		case "offset":
			h.Offset, err = strconv.Atoi(value)
		case "magic":
			h.Magic, err = hex.DecodeString(value)
		case "mask":
			h.Mask, err = hex.DecodeString(value)
		case "extension":
			h.Extension = strings.TrimPrefix(value, ".")
		}
		if err != nil {
			return bad("line %q: %v", l, err)
		}
	}
	if h.Magic == nil && h.Extension == "" {
		return bad("neither magic nor extension")
	}
	if h.Mask != nil && len(h.Mask) != len(h.Magic) {
		return bad("a mask of %d bytes for a magic of %d", len(h.Mask), len(h.Magic))
	}
	if h.Magic != nil && len(h.Magic) == 0 {
		return bad("an empty magic")
	}
	return h, nil
}
