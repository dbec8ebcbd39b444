package maintenance

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/snapshot"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// blobs re-hashes every blob file.
func (v *verifier) blobs(ctx context.Context) error {
	files, err := v.s.BlobFiles()
	if err != nil {
		return err
	}
	dir := v.root.Blobs()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := f.Name
		remove := func() error { return v.s.RemoveBlobFile(name) }
		path := filepath.Join(dir, name)
		switch {
		case f.Digest == "":
			v.add(Problem{Kind: "blob", Path: path, Detail: "file name is not a sha256 digest", fix: remove, action: "removed"})
			continue
		case !f.Regular:
			v.bad[f.Digest] = "is not a regular file"
			v.add(Problem{Kind: "blob", Path: path, Digest: f.Digest, Detail: "not a regular file", fix: remove, action: "removed"})
			continue
		}
		v.res.Blobs++
		v.res.BlobBytes += f.Size
		if err := v.s.VerifyBlob(ocispec.Descriptor{Digest: f.Digest, Size: f.Size}); err != nil {
			v.bad[f.Digest] = "is damaged"
			v.add(Problem{Kind: "blob", Path: path, Digest: f.Digest, Detail: err.Error(), fix: remove, action: "removed"})
			continue
		}
		v.sizes[f.Digest] = f.Size
	}
	return nil
}

// state says what is wrong with blob d of the given size, or "".
func (v *verifier) state(d digest.Digest, size int64) string {
	if why, ok := v.bad[d]; ok {
		return "blob " + string(d) + " " + why
	}
	got, ok := v.sizes[d]
	switch {
	case !ok:
		return "blob " + string(d) + " is missing"
	case size >= 0 && got != size:
		return fmt.Sprintf("blob %s has %d bytes, the descriptor says %d", d, got, size)
	}
	return ""
}

// images walks index.json's entries.
func (v *verifier) images(context.Context) error {
	r, err := reachImages(v.s)
	if err != nil {
		v.unreadable = true
		v.reach = newReach()
		path := v.root.Index()
		v.add(Problem{Kind: "index", Path: path, Detail: err.Error(), fix: v.s.ResetIndex,
			action: "kept as " + filepath.Base(path) + ".corrupt-* and replaced by an empty index"})
		return nil
	}
	v.reach = r
	v.res.Images = len(r.entries)
	for i := range r.entries {
		e := &r.entries[i]
		detail := ""
		if e.err != nil {
			detail = e.err.Error()
		} else {
			for _, d := range e.blobs {
				if why := v.state(d, r.blobs[d].Size); why != "" {
					detail = why
					break
				}
			}
		}
		if detail == "" {
			for _, d := range e.blobs {
				if diffID, ok := r.layers[d]; ok {
					v.claims[d] = append(v.claims[d], claim{diffID: diffID, entry: &e.desc})
				}
			}
			continue
		}
		desc := e.desc
		v.add(Problem{Kind: "image", Path: v.root.Index(), Digest: desc.Digest, Detail: e.name() + ": " + detail,
			fix: func() error { return v.untag(desc) }, action: "untagged"})
	}
	return nil
}

// untag queues desc's removal from index.json (done once, in repair).
func (v *verifier) untag(desc ocispec.Descriptor) error {
	v.badEntries = append(v.badEntries, desc)
	return nil
}

// cacheEntries checks every cache entry file and its layer blob.
func (v *verifier) cacheEntries(context.Context) error {
	c, err := cache.Open(v.root)
	if err != nil {
		return err
	}
	entries, corrupt, _, err := c.Scan()
	if err != nil {
		return err
	}
	v.keys, v.cached, v.cacheID = map[digest.Digest]bool{}, map[digest.Digest]bool{}, map[digest.Digest]bool{}
	v.res.Entries = len(entries)
	for _, ce := range corrupt {
		path := ce.Path
		v.add(Problem{Kind: "cache entry", Path: path, Detail: ce.Err.Error(),
			fix: func() error { return c.RemoveFile(path) }, action: "removed"})
	}
	for _, e := range entries {
		v.keys[e.Key] = true
		if e.Layer == nil {
			continue
		}
		key := e.Key
		path, err := c.EntryPath(key)
		if err != nil {
			return err
		}
		if why := v.state(e.Layer.Digest, e.Layer.Size); why != "" {
			v.add(Problem{Kind: "cache entry", Path: path, Digest: key, Detail: "layer " + why,
				fix: func() error { return c.Delete(key) }, action: "removed"})
			continue
		}
		v.cached[e.Layer.Digest] = true
		v.cacheID[e.DiffID] = true
		v.claims[e.Layer.Digest] = append(v.claims[e.Layer.Digest], claim{diffID: e.DiffID, key: key, path: path})
	}
	return nil
}

// diffIDs decompresses every layer blob some image or entry relies on
// and checks it against the diffIDs they claim.
func (v *verifier) diffIDs(ctx context.Context) error {
	c, err := cache.Open(v.root)
	if err != nil {
		return err
	}
	layers := make([]digest.Digest, 0, len(v.claims))
	for d := range v.claims {
		layers = append(layers, d)
	}
	sort.Slice(layers, func(i, j int) bool { return layers[i] < layers[j] })
	for _, d := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		v.res.Layers++
		got, derr := v.s.LayerDiffID(d)
		for _, cl := range v.claims[d] {
			var detail string
			switch {
			case derr != nil:
				detail = fmt.Sprintf("layer %s cannot be decompressed: %v", d, derr)
			case got != cl.diffID:
				detail = fmt.Sprintf("layer %s decompresses to %s, not the diffID %s", d, got, cl.diffID)
			default:
				continue
			}
			if cl.entry != nil {
				desc := *cl.entry
				v.add(Problem{Kind: "image", Path: v.root.Index(), Digest: desc.Digest,
					Detail: reachedEntry{desc: desc}.name() + ": " + detail,
					fix:    func() error { return v.untag(desc) }, action: "untagged"})
				continue
			}
			key := cl.key
			v.add(Problem{Kind: "cache entry", Path: cl.path, Digest: key, Detail: detail,
				fix: func() error { return c.Delete(key) }, action: "removed"})
		}
	}
	return nil
}

// unpacked checks the unpacked layers, of both kinds of overlay mounts.
func (v *verifier) unpacked(context.Context) error {
	for _, u := range snapshot.Unpackers(v.root.Layers()) {
		if err := v.unpackedBy(u); err != nil {
			return err
		}
	}
	return nil
}

// unpackedBy checks the layers u unpacked.
func (v *verifier) unpackedBy(u *snapshot.Unpacker) error {
	issues, err := u.Check()
	if err != nil {
		return err
	}
	for _, i := range issues {
		v.add(Problem{Kind: "unpacked layer", Path: i.Path, Detail: i.Problem, fix: i.Fix, action: "removed"})
	}
	ids, err := u.Unpacked()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !v.reach.diffIDs[id] && !v.cacheID[id] {
			v.res.UnreferencedUnpacked++
		}
	}
	return nil
}

// snapshots checks the snapshotters' state.
func (v *verifier) snapshots(context.Context) error {
	issues, err := snapshot.CheckState(v.root.Snapshots())
	if err != nil {
		return err
	}
	for _, i := range issues {
		v.add(Problem{Kind: "snapshot", Path: i.Path, Detail: i.Problem, fix: i.Fix, action: "removed"})
	}
	return nil
}

// unreferenced counts the sound blobs nothing needs.
func (v *verifier) unreferenced() {
	for d, size := range v.sizes {
		if _, ok := v.reach.blobs[d]; !ok && !v.cached[d] {
			v.res.UnreferencedBlobs++
			v.res.UnreferencedBytes += size
		}
	}
}
