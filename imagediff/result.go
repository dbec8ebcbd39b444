package imagediff

import (
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Result is how two images, a and b, differ. Its JSON form is the
// document minibuild diff --format json prints; the field names are
// stable.
type Result struct {
	// A and B name the images compared.
	A ImageInfo `json:"a"`
	B ImageInfo `json:"b"`
	// Identical is set when the images are the same image: one manifest
	// digest, or one config digest (so the same layer contents) under
	// two manifests. Same says which: "manifest" or "config".
	Identical bool   `json:"identical"`
	Same      string `json:"same,omitempty"`
	// Differ is set when the comparison found a difference: a config
	// field or a file, or (unless IgnoreTimes) layers whose contents
	// differ while no file does.
	Differ bool `json:"differ"`
	// IgnoreTimes says file mtimes, the config's created and the history
	// entries' created were left out.
	IgnoreTimes bool `json:"ignoreTimes"`
	// Config lists the config fields that differ, in a fixed order.
	Config []ConfigChange `json:"config"`
	// Layers pairs the layers position by position, base first.
	Layers []LayerPair `json:"layers"`
	// Files lists the paths of the flattened file systems that differ,
	// sorted. It is empty when every layer is shared.
	Files []FileChange `json:"files"`
}

// ImageInfo names one image of a Result.
type ImageInfo struct {
	Name     string        `json:"name"`
	Manifest digest.Digest `json:"manifest"`
	Config   digest.Digest `json:"config"`
	// Platform is os/architecture[/variant].
	Platform string `json:"platform"`
}

// ConfigChange is one config field that differs. Field is its JSON path
// in the config document ("created", "config.Env", "history", ...).
// For fields compared per item, Key names the item: an environment
// variable's name (Env), a label's key (Labels), an index (history).
// A and B are the values in a and b; nil (JSON null) when absent. Env
// values are the variables' values; ExposedPorts and Volumes list their
// keys as values (a port absent from b is A "80/tcp", B nil); other
// values are the config's own JSON. Fields the comparison does not know
// by name (extensions) are compared as JSON values under their names;
// documents that hold the same values written otherwise give one change
// of Field EncodingField.
type ConfigChange struct {
	Field string `json:"field"`
	Key   string `json:"key,omitempty"`
	A     any    `json:"a"`
	B     any    `json:"b"`
}

// LayerPair is the layer at one position of each image.
type LayerPair struct {
	// Index counts from 0, the base layer.
	Index int `json:"index"`
	// Shared is set when both images have a layer here with the same
	// diffID (the same uncompressed content).
	Shared bool `json:"shared"`
	// A and B are the layers; nil when the image has fewer layers.
	A *Layer `json:"a"`
	B *Layer `json:"b"`
}

// Layer is one layer of an image.
type Layer struct {
	// Digest is the blob's (compressed) digest; DiffID the digest of the
	// uncompressed tar.
	Digest    digest.Digest `json:"digest"`
	DiffID    digest.Digest `json:"diffID"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
	// CreatedBy is the history entry's created_by for this layer, if any.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Kind says how a path differs. Its values are the letters docker diff
// prints.
type Kind string

const (
	// Added is a path only b has.
	Added Kind = "A"
	// Deleted is a path only a has.
	Deleted Kind = "D"
	// Changed is a path both have, with different attributes.
	Changed Kind = "C"
)

// Attributes of a File that a Changed path lists in FileChange.Changes.
const (
	AttrType     = "type"     // file, dir, symlink, ...
	AttrContent  = "content"  // a regular file's size or digest
	AttrMode     = "mode"     // permissions, setuid, setgid, sticky
	AttrOwner    = "owner"    // uid:gid
	AttrLink     = "link"     // a symbolic link's target
	AttrHardlink = "hardlink" // the path a hard link shares its file with
	AttrMtime    = "mtime"    // modification time
	AttrXattrs   = "xattrs"   // extended attributes
	AttrDevice   = "device"   // a device's major and minor numbers
)

// FileChange is one path of the flattened file systems that differs.
type FileChange struct {
	// Path is absolute and clean, e.g. "/etc/hosts".
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Changes lists the attributes that differ, for Changed, in the
	// order of the Attr constants.
	Changes []string `json:"changes,omitempty"`
	// A and B describe the path in each image; nil where it is absent.
	A *File `json:"a"`
	B *File `json:"b"`
}

// File types of File.Type.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
	TypeChar    = "char"
	TypeBlock   = "block"
	TypeFifo    = "fifo"
)

// File is what a flattened file system holds at a path, from its layer's
// tar header and, for a regular file, the digest of its content.
type File struct {
	// Type is one of the Type constants.
	Type string `json:"type"`
	// Mode holds the permission bits plus setuid, setgid and sticky; JSON
	// writes it as octal text, "0755".
	Mode Mode `json:"mode"`
	UID  int  `json:"uid"`
	GID  int  `json:"gid"`
	// Size and Digest (sha256) are a regular file's content.
	Size   int64         `json:"size"`
	Digest digest.Digest `json:"digest,omitempty"`
	// Link is a symbolic link's target.
	Link string `json:"link,omitempty"`
	// Hardlink, for a file a layer wrote as a hard link, is the path of
	// the file it links to (absolute); the other attributes are that
	// file's.
	Hardlink string    `json:"hardlink,omitempty"`
	ModTime  time.Time `json:"mtime,omitzero"`
	// Xattrs are the extended attributes (SCHILY.xattr PAX records).
	Xattrs map[string]string `json:"xattrs,omitempty"`
	// Devmajor and Devminor identify a character or block device.
	Devmajor int64 `json:"devmajor,omitempty"`
	Devminor int64 `json:"devminor,omitempty"`
	// Implied is set for a directory no layer wrote, made for the entries
	// below it (mode 0755, owner 0:0, no mtime: JSON leaves it out), as
	// extraction makes it.
	Implied bool `json:"implied,omitempty"`
}
