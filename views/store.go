package views

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/maintenance"
)

// SortEntries puts cache entries in the order "cache ls" lists them: most
// recently used first.
func SortEntries(entries []cache.Entry) {
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].LastUsed.After(entries[j].LastUsed) })
}

// PrintEntries prints cache entries as a table: KEY, SIZE, LAST USED,
// CREATED BY.
func PrintEntries(w io.Writer, entries []cache.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSIZE\tLAST USED\tCREATED BY")
	for _, e := range entries {
		size := "-"
		if e.Layer != nil {
			size = textfmt.Size(e.Layer.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", textfmt.ShortID(e.Key), size,
			e.LastUsed.Local().Format(time.DateTime), textfmt.Clip(e.CreatedBy, 80))
	}
	return tw.Flush()
}

// PrintUsage prints the disk space a root's parts take, and what prune
// does to each; then, if there are any, the cache mounts (MountRows).
func PrintUsage(w io.Writer, u maintenance.DiskUsage) error {
	mounts := MountRows(u.Mounts)
	var mountBytes int64
	for _, m := range mounts {
		mountBytes += m.Size
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tCOUNT\tSIZE\tPRUNE")
	rows := []struct {
		part  string
		count int
		size  int64
		prune string
	}{
		{"tagged images (their blobs)", u.ImageBlobs, u.ImageBytes, "kept"},
		{"cache-only layers", u.CacheBlobs, u.CacheBytes, "least recently used first"},
		{"unreferenced blobs", u.OtherBlobs, u.OtherBytes, "removed"},
		{"unpacked layers", u.Unpacked, u.UnpackedBytes, "those of removed layers"},
		{"native bases", u.Bases, u.BasesBytes, "those of no tagged image"},
		{"partial writes (tmp)", -1, u.TempBytes, "removed"},
		{"cache mounts", len(mounts), mountBytes, "with --mounts or --all"},
	}
	var total int64
	for _, r := range rows {
		count := strconv.Itoa(r.count)
		if r.count < 0 {
			count = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.part, count, textfmt.Size(r.size), r.prune)
		total += r.size
	}
	fmt.Fprintf(tw, "total\t\t%s\t\n", textfmt.Size(total))
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%d images tagged, %d cache entries, %s\n", u.Images, u.Entries, textfmt.Plural(len(mounts), "cache mount")); err != nil {
		return err
	}
	if len(mounts) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return PrintMounts(w, mounts)
}

// PrintVerify prints what a verify found: one line per problem, then what
// was checked and what nothing needs.
func PrintVerify(w io.Writer, res maintenance.VerifyResult) error {
	for _, p := range res.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	fmt.Fprintf(w, "checked %d blobs (%s), %d images, %d cache entries, %d layers decompressed\n",
		res.Blobs, textfmt.Size(res.BlobBytes), res.Images, res.Entries, res.Layers)
	if res.UnreferencedBlobs > 0 || res.UnreferencedUnpacked > 0 {
		fmt.Fprintf(w, "unreferenced: %d blobs (%s), %d unpacked layers ('minibuild cache prune' removes them)\n",
			res.UnreferencedBlobs, textfmt.Size(res.UnreferencedBytes), res.UnreferencedUnpacked)
	}
	return nil
}
