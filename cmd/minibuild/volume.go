package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/views"
	"github.com/minibuild/minibuild/volume"
	"github.com/spf13/pflag"
)

// volumeCommand is "minibuild volume SUBCOMMAND": the named volumes of
// minibuild run -v.
func volumeCommand() command {
	return command{
		name:    "volume",
		summary: "List, create, inspect and remove the named volumes of 'minibuild run -v'",
		usage:   "minibuild volume [--root DIR] ls|create|inspect|rm|prune [flags]",
		example: `  minibuild run -v data:/data busybox:test -- sh -c 'echo hi > /data/f'   # creates the volume data
  minibuild volume ls                      # NAME, SIZE, CREATED, LAST USED
  minibuild volume ls --format json | jq -r '.[].name'
  minibuild volume inspect data            # its folder, size and whether a container uses it
  minibuild volume rm data                 # refused while a container uses it
  minibuild volume prune                   # remove every volume no container uses
A volume lives under the root (ROOT/volumes) and outlives the containers that mount it.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			fs.SetInterspersed(false)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runSubcommand(ctx, "volume", fs, root, volumeSubcommands(), args, stdout, stderr)
			}
		},
	}
}

// volumeSubcommands lists the subcommands of "minibuild volume".
func volumeSubcommands() []command {
	return []command{volumeLsCommand(), volumeCreateCommand(), volumeInspectCommand(), volumeRmCommand(), volumePruneCommand()}
}

// openVolumes opens the volumes of the store at root.
func openVolumes(root string) (*volume.Store, error) {
	s, err := openStore(root)
	if err != nil {
		return nil, err
	}
	return volume.At(rootdir.At(s.Root())), nil
}

func volumeLsCommand() command {
	return command{
		name:    "volume ls",
		summary: "List the volumes, by name",
		usage:   "minibuild volume ls [--root DIR] [-q] [--format table|json]",
		example: `  minibuild volume ls
  minibuild volume ls -q                   # names only
  minibuild volume ls --format json        # name, size, createdAt, lastUsedAt, mountpoint`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			quiet := fs.BoolP("quiet", "q", false, "print only the names")
			format := fs.String("format", "table", "output: table or json")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("volume ls", args); err != nil {
					return err
				}
				if err := checkFormat("volume ls", *format); err != nil {
					return err
				}
				vs, err := openVolumes(*root)
				if err != nil {
					return err
				}
				vols, unreadable, err := vs.List()
				for _, e := range unreadable {
					fmt.Fprintf(stderr, "minibuild: warning: %v\n", e)
				}
				if err != nil {
					return err
				}
				if *quiet {
					for _, v := range vols {
						fmt.Fprintln(stdout, v.Name)
					}
					return nil
				}
				rows := views.VolumeRows(vs, vols)
				if *format == "json" {
					return writeJSON(stdout, rows)
				}
				return views.PrintVolumes(stdout, rows)
			}
		},
	}
}

func volumeCreateCommand() command {
	return command{
		name:    "volume create",
		summary: "Create an empty volume (run -v creates one on first use anyway)",
		usage:   "minibuild volume create [--root DIR] NAME",
		example: `  minibuild volume create data             # prints data; an existing volume is kept as it is
The first container that mounts it on a directory of its image fills it with that directory's content.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("volume create: want one volume name")}
				}
				if err := volume.CheckName(args[0]); err != nil {
					return usageError{fmt.Errorf("volume create: %w", err)}
				}
				vs, err := openVolumes(*root)
				if err != nil {
					return err
				}
				v, _, err := vs.Create(ctx, args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(stdout, v.Name)
				return err
			}
		},
	}
}

// volumeDetail is one volume as "volume inspect" prints it.
type volumeDetail struct {
	views.VolumeRow
	InUse bool `json:"inUse"`
}

func volumeInspectCommand() command {
	return command{
		name:    "volume inspect",
		summary: "Print volumes as JSON: name, size, times, folder, whether a container uses it",
		usage:   "minibuild volume inspect [--root DIR] NAME...",
		example: `  minibuild volume inspect data
  ls "$(minibuild volume inspect data | jq -r '.[0].mountpoint')"   # its files, on the host`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) == 0 {
					return usageError{errors.New("volume inspect: want at least one volume name")}
				}
				vs, err := openVolumes(*root)
				if err != nil {
					return err
				}
				out := []volumeDetail{}
				var failed []error
				for _, name := range args {
					v, err := vs.Get(name)
					var used bool
					if err == nil {
						used, err = vs.InUse(name)
					}
					if err != nil {
						failed = append(failed, fmt.Errorf("volume inspect: %w", err))
						continue
					}
					out = append(out, volumeDetail{VolumeRow: views.VolumeRows(vs, []volume.Volume{v})[0], InUse: used})
				}
				if err := writeJSON(stdout, out); err != nil {
					return err
				}
				return errors.Join(failed...)
			}
		},
	}
}

func volumeRmCommand() command {
	return command{
		name:    "volume rm",
		summary: "Remove volumes and their files; refused for a volume a running container uses",
		usage:   "minibuild volume rm [--root DIR] NAME...",
		example: `  minibuild volume rm data
  minibuild volume rm $(minibuild volume ls -q)   # all of them (those in use stay, with an error)`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) == 0 {
					return usageError{errors.New("volume rm: want at least one volume name")}
				}
				vs, err := openVolumes(*root)
				if err != nil {
					return err
				}
				var failed []error
				for _, name := range args {
					r, err := vs.Remove(name)
					if err != nil {
						failed = append(failed, fmt.Errorf("volume rm: %w", err))
						continue
					}
					fmt.Fprintf(stdout, "Deleted: %s (%s)\n", r.Name, textfmt.Size(r.Bytes))
				}
				return errors.Join(failed...)
			}
		},
	}
}

func volumePruneCommand() command {
	return command{
		name:    "volume prune",
		summary: "Remove every volume no running container uses",
		usage:   "minibuild volume prune [--root DIR] [-q]",
		example: `  minibuild volume prune        # one "Deleted:" line per volume, then the space freed
  minibuild volume prune -q     # only the summary
Prune never asks for confirmation (-f is accepted for Docker familiarity).`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			quiet := fs.BoolP("quiet", "q", false, "print only the summary")
			fs.BoolP("force", "f", false, "do not ask for confirmation (prune never asks)")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("volume prune", args); err != nil {
					return err
				}
				vs, err := openVolumes(*root)
				if err != nil {
					return err
				}
				res, err := vs.Prune()
				if !*quiet {
					for _, r := range res.Removed {
						fmt.Fprintf(stdout, "Deleted: %s (%s)\n", r.Name, textfmt.Size(r.Bytes))
					}
				}
				kept := ""
				if len(res.InUse) > 0 {
					kept = fmt.Sprintf("; kept %s in use: %s", textfmt.Plural(len(res.InUse), "volume"), strings.Join(res.InUse, ", "))
				}
				fmt.Fprintf(stdout, "freed %s: %s removed%s\n", textfmt.Size(res.Bytes()), textfmt.Plural(len(res.Removed), "volume"), kept)
				return err
			}
		},
	}
}
