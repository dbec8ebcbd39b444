package dockerfile

// MountType is the type= of a RUN --mount.
type MountType string

// Mount types, as BuildKit names them.
const (
	MountBind   MountType = "bind"
	MountCache  MountType = "cache"
	MountTmpfs  MountType = "tmpfs"
	MountSecret MountType = "secret"
	MountSSH    MountType = "ssh"
)

// Sharing is the sharing= of a cache mount.
type Sharing string

// Sharing modes of a cache mount, as BuildKit names them.
const (
	// SharingShared lets concurrent builds use the directory together (the default).
	SharingShared Sharing = "shared"
	// SharingPrivate gives a build a directory of its own while another uses it.
	SharingPrivate Sharing = "private"
	// SharingLocked makes a build wait until another has finished with it.
	SharingLocked Sharing = "locked"
)

// Mount is one RUN --mount, after expansion, as written: defaults that
// depend on the stage (a relative target, a cache id that defaults to the
// target, a secret's default path) are the builder's to fill in. ParseMount
// makes one; an Expander fills RunInstruction.Mounts with them.
type Mount struct {
	Type     MountType
	From     string // from=: a stage name or index, or an image
	Source   string // source= / src=
	Target   string // target= / dst= / destination=
	ReadOnly bool   // ro/readonly, rw/readwrite; bind, secret and ssh default to read-only
	Size     int64  // size= of a tmpfs, in bytes; 0 when not given
	ID       string // id= of a cache, secret or ssh mount
	Sharing  Sharing
	Required bool    // required= of a secret or ssh mount
	Env      *string // env= of a secret: the variable that holds it
	Mode     *uint32 // mode= (octal) of a cache, secret or ssh mount
	UID, GID *uint32 // uid= and gid= of a cache, secret or ssh mount
}
