package executor

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// plannedMount is a Mount as the plan prepared it for both executors: its target
// resolved, its mount point there or listed in Create, and its host source.
type plannedMount struct {
	Type MountType `json:"type"`
	// Target is resolved and holds no symbolic links.
	Target string `json:"target"`
	// Source is the host path a MountBind or MountFile binds.
	Source   string `json:"source,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	// Options are a MountTmpfs's mount options (mode=, uid=, gid=, size=).
	Options []string `json:"options,omitempty"`
	// Create are the mount points to create, in order, just before this mount, in
	// file systems that exist only once the run set them up (an earlier tmpfs, /dev).
	// The init creates them; an OCI runtime creates missing destinations itself.
	Create []pendingEntry `json:"create,omitempty"`
	// data is a MountFile's content, written by the plan and never handed on.
	data []byte
	uid  uint32
	gid  uint32
	mode uint32
}

// checkMounts checks every mount of p before anything is prepared.
func checkMounts(ms []Mount) error {
	for _, m := range ms {
		if _, _, err := checkMount(m); err != nil {
			return err
		}
	}
	return nil
}

// standardLayers puts the file systems every run gets on the tree, as the setup
// mounts them.
func (pl *plan) standardLayers(tree *mountTree) {
	m := pl.mounts
	tree.push(&layer{target: m.Proc, refused: "the kernel's /proc"})
	tree.push(&layer{target: m.Sys, refused: "the kernel's /sys"})
	dev := map[string]vnode{}
	for _, n := range devNodes() {
		dev["/"+n.name] = vnode{kind: nodeOther}
	}
	for _, d := range devSubMounts() {
		dev["/"+d.name] = vnode{kind: nodeDir}
	}
	for _, l := range devLinks() {
		dev["/"+l[1]] = vnode{kind: nodeLink, link: l[0]}
	}
	tree.push(&layer{target: m.Dev, virtual: dev})
	tree.push(&layer{target: m.Hosts, leaf: true})
	tree.push(&layer{target: m.ResolvConf, leaf: true})
}

// planUserMounts resolves the target of every mount of the process in order, each
// across the ones before it, creates the missing mount points and records the mounts.
func (pl *plan) planUserMounts(tree *mountTree) error {
	for _, m := range pl.proc.Mounts {
		pm, l, err := pl.planMount(tree, m)
		if err != nil {
			return err
		}
		pl.userMounts = append(pl.userMounts, pm)
		tree.push(l)
	}
	return nil
}

// planMount resolves and prepares one mount and returns the layer it puts on the tree.
func (pl *plan) planMount(tree *mountTree, m Mount) (plannedMount, *layer, error) {
	source, info, err := checkMount(m)
	if err != nil {
		return plannedMount{}, nil, err
	}
	pm := plannedMount{Type: m.Type, Source: source, ReadOnly: m.ReadOnly || m.Type == MountFile}
	kind := kindFile
	l := &layer{leaf: true}
	// runc before 1.1.8 gives a tmpfs the mode of an existing mount point
	// (opencontainers/runc#3911): one this plan creates gets the tmpfs's mode.
	stubMode := uint32(0)
	switch {
	case m.Type == MountTmpfs:
		kind, l = kindDir, &layer{virtual: map[string]vnode{}}
		mode, _ := unixMode(m.Mode, defaultTmpfsMode)
		stubMode = mode
		pm.Options = []string{fmt.Sprintf("mode=%04o", mode), fmt.Sprintf("uid=%d", m.UID), fmt.Sprintf("gid=%d", m.GID)}
		if m.Size > 0 {
			pm.Options = append(pm.Options, fmt.Sprintf("size=%d", m.Size))
		}
	case m.Type == MountFile:
		pm.data, pm.uid, pm.gid = m.Data, m.UID, m.GID
		pm.mode, _ = unixMode(m.Mode, defaultFileMode)
	case info.IsDir():
		fd, err := unix.Open(source, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return pm, nil, fmt.Errorf("bind mount at %s: opening source: %w", m.Target, err)
		}
		kind, l = kindDir, &layer{hostfd: fd, stubs: &stubSet{rootfd: fd}}
		pl.sources = append(pl.sources, l)
	}
	pm.Target, err = tree.resolveMode(m.Target, kind, stubMode)
	pm.Create = tree.takePending()
	if err != nil {
		return pm, nil, fmt.Errorf("mount at %s: creating mount point: %w", m.Target, err)
	}
	if pm.Target == "/" {
		return pm, nil, fmt.Errorf("mount target %s resolves to the root directory", m.Target)
	}
	if c := tree.covering(pm.Target); c.refused != "" {
		return pm, nil, fmt.Errorf("mount at %s: %s is %s, where nothing may be mounted", m.Target, c.target, c.refused)
	}
	for _, earlier := range pl.userMounts {
		if earlier.Target == pm.Target {
			return pm, nil, fmt.Errorf("mount at %s: %s is already the target of an earlier mount", m.Target, pm.Target)
		}
	}
	l.target = pm.Target
	return pm, l, nil
}

// sealStubs records the state of the directories mount points were created in, once
// all of them exist (see stubSet.seal).
func (pl *plan) sealStubs() {
	pl.stubs.seal()
	for _, l := range pl.sources {
		l.stubs.seal()
	}
}

// removeSourceStubs removes the mount points created in bind mounts' sources and
// closes the sources.
func (pl *plan) removeSourceStubs() error {
	var errs []error
	for _, l := range pl.sources {
		if err := l.stubs.remove(); err != nil {
			errs = append(errs, fmt.Errorf("in a bind mount's source: %w", err))
		}
		unix.Close(l.hostfd)
	}
	pl.sources = nil
	return errors.Join(errs...)
}
