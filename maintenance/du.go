package maintenance

import "github.com/minibuild/minibuild/internal/diskusage"

// sizeOnDisk sums the allocated size of the files under path, not
// following links nor crossing into other file systems; errors count as
// nothing.
func sizeOnDisk(path string) int64 { return diskusage.Size(path) }
