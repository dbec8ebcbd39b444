package main

import (
	"context"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/maintenance"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/views"
	"github.com/spf13/pflag"
)

// cacheCommand is "minibuild cache SUBCOMMAND": the build cache's upkeep.
func cacheCommand() command {
	return command{
		name:    "cache",
		summary: "Inspect, verify and prune the build cache and store",
		usage:   "minibuild cache [--root DIR] ls|du|verify|prune [flags]",
		example: `  minibuild cache ls                          # every cached step: key, layer size, last used, step
  minibuild cache du                          # disk space by part of the store
  minibuild cache verify                      # re-hash every blob, check images and cache entries
  minibuild cache verify --repair             # ... and remove what is bad, so the next build redoes it
  minibuild cache prune                       # remove cache no tagged image needs
  minibuild cache prune --keep-storage 10GB   # ... least recently used first, keeping 10 GiB
  minibuild cache prune --all                 # remove every cache entry and cache mount (tagged images stay)
  minibuild cache prune --mounts              # ... and the RUN --mount=type=cache directories
  minibuild cache verify --help               # a subcommand's flags and examples`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			fs.SetInterspersed(false)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runSubcommand(ctx, "cache", fs, root, cacheSubcommands(), args, stdout, stderr)
			}
		},
	}
}

// cacheSubcommands lists the subcommands of "minibuild cache".
func cacheSubcommands() []command {
	return []command{cacheLsCommand(), cacheDuCommand(), cacheVerifyCommand(), cachePruneCommand()}
}

// noArgs wraps a subcommand that takes no arguments.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", name, args[0])}
	}
	return nil
}

func cacheLsCommand() command {
	return command{
		name:    "cache ls",
		summary: "List the cached steps, most recently used first",
		usage:   "minibuild cache ls [--root DIR] [--json]",
		example: `  minibuild cache ls
  minibuild cache ls --json | jq '.[] | select(.layer == null) | .createdBy'`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			asJSON := fs.Bool("json", false, "print the entries as a JSON array")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("cache ls", args); err != nil {
					return err
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				c, err := cache.Open(rootdir.At(s.Root()))
				if err != nil {
					return err
				}
				entries, corrupt, _, err := c.Scan()
				if err != nil {
					return err
				}
				for _, ce := range corrupt {
					fmt.Fprintf(stderr, "minibuild: warning: %v (minibuild cache verify --repair removes it)\n", ce)
				}
				views.SortEntries(entries)
				if *asJSON {
					if entries == nil {
						entries = []cache.Entry{}
					}
					return writeJSON(stdout, entries)
				}
				return views.PrintEntries(stdout, entries)
			}
		},
	}
}

func cacheDuCommand() command {
	return command{
		name:    "cache du",
		summary: "Show the disk space the store's parts and the cache mounts take",
		usage:   "minibuild cache du [--root DIR]",
		example: `  minibuild cache du
  minibuild cache du --root /var/lib/minibuild`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("cache du", args); err != nil {
					return err
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				u, err := maintenance.Usage(ctx, s)
				if err != nil {
					return err
				}
				return views.PrintUsage(stdout, u)
			}
		},
	}
}

// problemsFound is the error of a verify that found problems: they are
// printed already, so it only sums up.
type problemsFound struct{ msg string }

func (e problemsFound) Error() string { return e.msg }

func cacheVerifyCommand() command {
	return command{
		name:    "cache verify",
		summary: "Check the store and the build cache; with --repair, remove what is bad",
		usage:   "minibuild cache verify [--root DIR] [--repair]",
		example: `  minibuild cache verify              # exit 1 and one line per problem if anything is wrong
  minibuild cache verify --repair     # remove bad blobs, cache entries and images; the next build redoes them
Checks: every blob is re-hashed; every image in index.json is read (manifests, configs) and
must have all its blobs; every cache entry's layer must be present, of the recorded size, and
decompress to its diffID; nothing half made by a dead build may be left. Without --repair it
runs beside builds; with --repair it waits for them (it takes the store lock exclusively).
With --repair the exit status is 1 only if a repair failed.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			repair := fs.Bool("repair", false, "remove what is bad (waits for running builds)")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("cache verify", args); err != nil {
					return err
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				res, err := maintenance.Verify(ctx, s, maintenance.VerifyOptions{Repair: *repair})
				if err != nil {
					return err
				}
				if err := views.PrintVerify(stdout, res); err != nil {
					return err
				}
				switch n := len(res.Problems); {
				case n == 0:
					fmt.Fprintln(stdout, "no problems found")
					return nil
				case !*repair:
					return problemsFound{fmt.Sprintf("%d problems found in the store %s (minibuild cache verify --repair removes what is bad)", n, s.Root())}
				case res.Unrepaired() > 0:
					return problemsFound{fmt.Sprintf("%d problems found, %d could not be repaired", n, res.Unrepaired())}
				}
				fmt.Fprintf(stdout, "%d problems found and repaired\n", len(res.Problems))
				return nil
			}
		},
	}
}

func cachePruneCommand() command {
	return command{
		name:    "cache prune",
		summary: "Remove build cache no tagged image needs, and everything nothing needs",
		usage:   "minibuild cache prune [--root DIR] [--all] [--mounts] [--keep-storage SIZE]",
		example: `  minibuild cache prune                        # cache entries no tagged image needs, unreferenced blobs
  minibuild cache prune --keep-storage 10GB    # least recently used first, until the cache's layers fit in 10 GiB
  minibuild cache prune --mounts               # ... and the RUN --mount=type=cache directories
  minibuild cache prune --all                  # every cache entry and cache mount; tagged images and their blobs stay
Prune waits for running builds (it takes the store lock exclusively); builds started meanwhile
wait for it. A cache mount a build still holds is kept, and named. SIZE is bytes, or a number
with a unit k, m, g or t (powers of 1024): 512MB, 1.5GiB.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			all := fs.Bool("all", false, "remove every cache entry, also those of tagged images' steps, and every cache mount")
			mounts := fs.Bool("mounts", false, "remove the cache mounts (RUN --mount=type=cache directories) too")
			keep := fs.String("keep-storage", "", "keep up to SIZE of cache-only layers, removing the least recently used first")
			quiet := fs.BoolP("quiet", "q", false, "print only the summary")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("cache prune", args); err != nil {
					return err
				}
				opts := maintenance.PruneOptions{All: *all, Mounts: *mounts}
				if *keep != "" {
					n, err := textfmt.ParseSize(*keep)
					if err != nil {
						return usageError{fmt.Errorf("cache prune: --keep-storage: %w", err)}
					}
					opts.KeepStorage = n
				}
				if !*quiet {
					opts.Report = func(r maintenance.Removal) { fmt.Fprintln(stdout, r) }
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				res, err := maintenance.Prune(ctx, s, opts)
				if err != nil {
					return err
				}
				for _, i := range res.MountsInUse {
					fmt.Fprintf(stdout, "kept cache mount %s: a running build holds it\n", maintenance.MountName(i))
				}
				_, err = fmt.Fprintf(stdout, "freed %s: %d cache entries, %d blobs, %d unpacked layers, %d native bases, %d cache mount directories, %d leftovers\n",
					textfmt.Size(res.Bytes), res.Entries, res.Blobs, res.Unpacked, res.Bases, res.Mounts, res.Leftovers)
				return err
			}
		},
	}
}
