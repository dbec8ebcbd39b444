package views

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/maintenance"
	"github.com/minibuild/minibuild/mountcache"
)

// MountRow is one line of du's cache mounts: one cache id, its instances
// summed.
type MountRow struct {
	// Name is the id as shown (maintenance.MountName of instance 0).
	Name      string
	Instances int
	Size      int64
	// LastUsed is the latest of the instances'.
	LastUsed time.Time
	// InUse says that a running build holds one of the instances.
	InUse bool
}

// MountRows sums the instances of each cache id, in the order of infos
// (List sorts them by id); an instance whose id is unknown is a row of
// its own.
func MountRows(infos []mountcache.Info) []MountRow {
	var rows []MountRow
	at := map[string]int{}
	for _, i := range infos {
		key := "id:" + i.ID
		if i.ID == "" {
			key = "dir:" + i.Dir
		}
		n, ok := at[key]
		if !ok {
			first := i
			first.Instance = 0
			n = len(rows)
			at[key] = n
			rows = append(rows, MountRow{Name: maintenance.MountName(first)})
		}
		r := &rows[n]
		r.Instances++
		r.Size += i.Size
		r.InUse = r.InUse || i.InUse
		if i.LastUsed.After(r.LastUsed) {
			r.LastUsed = i.LastUsed
		}
	}
	return rows
}

// PrintMounts prints rows as a table: CACHE MOUNT, INSTANCES, SIZE, LAST
// USED, IN USE.
func PrintMounts(w io.Writer, rows []MountRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CACHE MOUNT\tINSTANCES\tSIZE\tLAST USED\tIN USE")
	for _, r := range rows {
		used, inUse := "-", "-"
		if !r.LastUsed.IsZero() {
			used = r.LastUsed.Local().Format(time.DateTime)
		}
		if r.InUse {
			inUse = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", textfmt.Cut(r.Name, 60), strconv.Itoa(r.Instances), textfmt.Size(r.Size), used, inUse)
	}
	return tw.Flush()
}
