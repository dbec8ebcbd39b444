package cache

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"io"

	digest "github.com/opencontainers/go-digest"
)

// keyVersion opens every key encoding; changing the recipe means changing
// it, so that old entries simply miss.
const keyVersion = "minibuild-cache-key v1"

// KeyInput is everything that determines a step's result.
//
// Key hashes the fields exactly as given, in the given order: it never
// sorts, so callers own the canonical order of Env (sorted by the caller)
// and of Sources and Extra (the order the step uses them). A nil slice and
// an empty one give the same key.
type KeyInput struct {
	// Parent is the previous step's key; for the first step after FROM, the
	// base image's manifest digest ("" for scratch).
	Parent digest.Digest
	// Platform is the target platform, e.g. "linux/amd64".
	Platform string
	// Instruction is the instruction after variable expansion, as canonical
	// text.
	Instruction string
	// Sources are the COPY/ADD inputs, in the order the step uses them.
	Sources []SourceFile
	// Env holds the KEY=VALUE pairs the step sees that matter (for RUN: the
	// ARG and ENV values in scope), sorted by the caller.
	Env []string
	// Extra holds anything else that matters (e.g. SHELL, the resolution of
	// --chown); order is preserved.
	Extra []string
}

// SourceFile is one input file of a COPY or ADD step as it will appear in
// the layer.
type SourceFile struct {
	// Path is the file's path (the caller decides relative to what, and
	// keeps it consistent).
	Path string
	// Mode holds the file type and permission bits.
	Mode uint32
	// UID and GID are the owners the file will get.
	UID, GID int
	// Digest is the content digest of a regular file, "" otherwise.
	Digest digest.Digest
	// Linkname is a symlink's target, "" otherwise.
	Linkname string
}

// Key returns the sha256 of a canonical encoding of k: the text
// "minibuild-cache-key v1", then every field in a fixed order, each string
// and list prefixed with its length, so no two different inputs share an
// encoding.
func (k KeyInput) Key() digest.Digest {
	h := sha256.New()
	k.encode(h)
	return digest.NewDigest(digest.SHA256, h)
}

// encode writes the canonical encoding of k that Key hashes, through a
// buffer: a COPY of thousands of files makes tens of thousands of small
// writes.
func (k KeyInput) encode(w io.Writer) {
	bw := bufio.NewWriterSize(w, 32<<10)
	defer bw.Flush()
	e := keyEncoder{h: bw}
	e.raw(keyVersion)
	e.str("parent", string(k.Parent))
	e.str("platform", k.Platform)
	e.str("instruction", k.Instruction)
	e.count("sources", len(k.Sources))
	for _, s := range k.Sources {
		e.str("path", s.Path)
		e.num("mode", uint64(s.Mode))
		e.num("uid", uint64(int64(s.UID)))
		e.num("gid", uint64(int64(s.GID)))
		e.str("digest", string(s.Digest))
		e.str("linkname", s.Linkname)
	}
	e.list("env", k.Env)
	e.list("extra", k.Extra)
}

// keyEncoder writes length-prefixed, labelled values into a hash (whose
// Write never fails).
type keyEncoder struct {
	h *bufio.Writer
}

func (e keyEncoder) raw(s string) {
	e.h.WriteString(s)
	e.h.WriteByte(0)
}

func (e keyEncoder) u64(n uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	e.h.Write(b[:])
}

func (e keyEncoder) bytes(s string) {
	e.u64(uint64(len(s)))
	e.h.WriteString(s)
}

func (e keyEncoder) str(label, s string) {
	e.bytes(label)
	e.bytes(s)
}

func (e keyEncoder) num(label string, n uint64) {
	e.bytes(label)
	e.u64(n)
}

func (e keyEncoder) count(label string, n int) {
	e.num(label, uint64(n))
}

func (e keyEncoder) list(label string, items []string) {
	e.count(label, len(items))
	for _, s := range items {
		e.bytes(s)
	}
}
