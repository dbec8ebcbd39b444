package tarutil

import (
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Entry is one file system object to be written into a layer tar.
//
// Entries are plain values: whoever builds them (a COPY step reading the
// build context, a snapshotter reading an overlay upper directory) fills in
// the metadata and, for regular files, an Open function that yields the
// content when the writer reaches the entry.
type Entry struct {
	// Name is the slash-separated path inside the layer, relative to the
	// root, with no leading "/" and no trailing "/" (e.g. "app/bin/tool").
	// OCI whiteouts are ordinary entries named "dir/.wh.NAME" or
	// "dir/.wh..wh..opq".
	Name string
	// Type is a tar type flag: tar.TypeReg, TypeDir, TypeSymlink, TypeLink,
	// TypeChar, TypeBlock or TypeFifo.
	Type byte
	// Mode holds the permission bits plus setuid, setgid and sticky, in tar
	// form (e.g. 0o4755); file type bits are not included.
	Mode int64
	// UID and GID are numeric owners; names are never written.
	UID, GID int
	// Size is the content length of a regular file.
	Size int64
	// Linkname is a symlink's target as written, or for TypeLink the Name of
	// the entry it links to (layer-relative, no leading "/").
	Linkname string
	// Devmajor and Devminor identify a character or block device.
	Devmajor, Devminor int64
	// ModTime is the file's modification time before clamping.
	ModTime time.Time
	// Xattrs are extended attributes, written as PAX SCHILY.xattr records.
	Xattrs map[string]string
	// Open returns the content of a regular file; it is called once, while
	// the entry is written, and the result is closed afterwards.
	Open func() (io.ReadCloser, error)
}

// Layer describes a layer blob once it has been written.
type Layer struct {
	// MediaType is the OCI media type of the blob, e.g.
	// "application/vnd.oci.image.layer.v1.tar+gzip".
	MediaType string
	// Digest is the sha256 of the compressed bytes (the blob's identity).
	Digest digest.Digest
	// DiffID is the sha256 of the uncompressed tar stream.
	DiffID digest.Digest
	// Size is the length of the compressed blob in bytes.
	Size int64
	// UncompressedSize is the length of the uncompressed tar stream.
	UncompressedSize int64
}
