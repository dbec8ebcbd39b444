package views

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/volume"
)

// VolumeRow is one line of "minibuild volume ls".
type VolumeRow struct {
	Name string `json:"name"`
	// Size is the disk space its files take.
	Size       int64     `json:"size"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	Mountpoint string    `json:"mountpoint"`
}

// VolumeRows measures vols, in their order.
func VolumeRows(s *volume.Store, vols []volume.Volume) []VolumeRow {
	rows := []VolumeRow{}
	for _, v := range vols {
		rows = append(rows, VolumeRow{Name: v.Name, Size: s.Size(v), CreatedAt: v.CreatedAt, LastUsedAt: v.LastUsedAt, Mountpoint: v.Mountpoint})
	}
	return rows
}

// PrintVolumes prints rows as a table: NAME, SIZE, CREATED, LAST USED
// ("-" for a volume no container used yet).
func PrintVolumes(w io.Writer, rows []VolumeRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tCREATED\tLAST USED")
	for _, r := range rows {
		used := "-"
		if !r.LastUsedAt.IsZero() {
			used = r.LastUsedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, textfmt.Size(r.Size), r.CreatedAt.Local().Format(time.DateTime), used)
	}
	return tw.Flush()
}
