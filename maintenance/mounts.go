package maintenance

import (
	"context"
	"fmt"

	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/mountcache"
)

// mounts removes the cache mounts no running build holds, when asked to.
func (p *pruner) mounts(ctx context.Context) error {
	if !p.opts.Mounts && !p.opts.All {
		return nil
	}
	res, err := mountcache.Open(p.root).Prune(ctx)
	p.mountsRemoved(res)
	p.res.MountsInUse = append(p.res.MountsInUse, res.InUse...)
	return err
}

// mountLeftovers removes what dead builds left of cache mounts, without
// removing a cache mount.
func (p *pruner) mountLeftovers() error {
	res, err := mountcache.Open(p.root).Cleanup()
	p.mountsRemoved(res)
	return err
}

// mountsRemoved reports what a mountcache removal did; the leftovers'
// space, which mountcache sums only, counts in the total.
func (p *pruner) mountsRemoved(res mountcache.Result) {
	freed := res.Freed
	for _, i := range res.Removed {
		p.removed(Removal{Kind: "cache mount", What: MountName(i), Bytes: i.Size})
		freed -= i.Size
	}
	for _, path := range res.Leftovers {
		p.removed(Removal{Kind: "leftover", What: path})
	}
	p.res.Bytes += max(freed, 0)
}

// MountName is how a cache mount's instance is shown: its id, printable,
// with the instance number when it is not 0, or its directory when the id
// is unknown.
func MountName(i mountcache.Info) string {
	name := textfmt.Printable(i.ID)
	if i.ID == "" {
		name = "(damaged) " + i.Dir
	}
	if i.Instance != 0 {
		name += fmt.Sprintf(" (instance %d)", i.Instance)
	}
	return name
}
