package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/maintenance"
	"github.com/minibuild/minibuild/rootdir"
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
  minibuild cache prune --all                 # remove every cache entry (tagged images stay)
  minibuild cache verify --help               # a subcommand's flags and examples`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			fs.SetInterspersed(false)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) == 0 {
					return usageError{errors.New("cache: want a subcommand: ls, du, verify or prune (see 'minibuild cache --help')")}
				}
				for _, sub := range cacheSubcommands() {
					if sub.name != "cache "+args[0] {
						continue
					}
					sfs := pflag.NewFlagSet("minibuild "+sub.name, pflag.ContinueOnError)
					sfs.SetOutput(io.Discard)
					sfs.SortFlags = false
					do := sub.setup(sfs)
					if err := sfs.Parse(args[1:]); err != nil {
						if errors.Is(err, pflag.ErrHelp) {
							printUsage(stdout, sub, sfs, false)
							return nil
						}
						return usageError{fmt.Errorf("%s: %w (see 'minibuild %s --help')", sub.name, err, sub.name)}
					}
					// --root given before the subcommand counts unless
					// given again after it.
					if fs.Changed("root") && !sfs.Changed("root") {
						if err := sfs.Set("root", *root); err != nil {
							return err
						}
					}
					return do(ctx, sfs.Args(), stdout, stderr)
				}
				return usageError{fmt.Errorf("cache: unknown subcommand %q: want ls, du, verify or prune", args[0])}
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
				sort.SliceStable(entries, func(i, j int) bool { return entries[i].LastUsed.After(entries[j].LastUsed) })
				if *asJSON {
					if entries == nil {
						entries = []cache.Entry{}
					}
					enc := json.NewEncoder(stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(entries)
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KEY\tSIZE\tLAST USED\tCREATED BY")
				for _, e := range entries {
					size := "-"
					if e.Layer != nil {
						size = textfmt.Size(e.Layer.Size)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Key.Encoded()[:12], size,
						e.LastUsed.Local().Format(time.DateTime), textfmt.Clip(e.CreatedBy, 80))
				}
				return tw.Flush()
			}
		},
	}
}

func cacheDuCommand() command {
	return command{
		name:    "cache du",
		summary: "Show the disk space the store's parts take",
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
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
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
				_, err = fmt.Fprintf(stdout, "%d images tagged, %d cache entries\n", u.Images, u.Entries)
				return err
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
				failed := 0
				for _, p := range res.Problems {
					fmt.Fprintln(stdout, "problem:", p)
					if *repair && (p.Repaired == "" || strings.HasPrefix(p.Repaired, "repair failed")) {
						failed++
					}
				}
				fmt.Fprintf(stdout, "checked %d blobs (%s), %d images, %d cache entries, %d layers decompressed\n",
					res.Blobs, textfmt.Size(res.BlobBytes), res.Images, res.Entries, res.Layers)
				if res.UnreferencedBlobs > 0 || res.UnreferencedUnpacked > 0 {
					fmt.Fprintf(stdout, "unreferenced: %d blobs (%s), %d unpacked layers ('minibuild cache prune' removes them)\n",
						res.UnreferencedBlobs, textfmt.Size(res.UnreferencedBytes), res.UnreferencedUnpacked)
				}
				switch n := len(res.Problems); {
				case n == 0:
					fmt.Fprintln(stdout, "no problems found")
					return nil
				case !*repair:
					return problemsFound{fmt.Sprintf("%d problems found in the store %s (minibuild cache verify --repair removes what is bad)", n, s.Root())}
				case failed > 0:
					return problemsFound{fmt.Sprintf("%d problems found, %d could not be repaired", n, failed)}
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
		usage:   "minibuild cache prune [--root DIR] [--all] [--keep-storage SIZE]",
		example: `  minibuild cache prune                        # cache entries no tagged image needs, unreferenced blobs
  minibuild cache prune --keep-storage 10GB    # least recently used first, until the cache's layers fit in 10 GiB
  minibuild cache prune --all                  # every cache entry; tagged images and their blobs stay
Prune waits for running builds (it takes the store lock exclusively); builds started meanwhile
wait for it. SIZE is bytes, or a number with a unit k, m, g or t (powers of 1024): 512MB, 1.5GiB.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			all := fs.Bool("all", false, "remove every cache entry, also those of tagged images' steps")
			keep := fs.String("keep-storage", "", "keep up to SIZE of cache-only layers, removing the least recently used first")
			quiet := fs.BoolP("quiet", "q", false, "print only the summary")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := noArgs("cache prune", args); err != nil {
					return err
				}
				opts := maintenance.PruneOptions{All: *all}
				if *keep != "" {
					n, err := parseSize(*keep)
					if err != nil {
						return usageError{fmt.Errorf("cache prune: --keep-storage: %w", err)}
					}
					opts.KeepStorage = n
				}
				if !*quiet {
					opts.Report = func(r maintenance.Removal) {
						line := "removed " + r.Kind
						if r.Digest != "" {
							line += " " + string(r.Digest)
						}
						if r.What != "" {
							line += ": " + textfmt.Clip(r.What, 100)
						}
						if r.Bytes > 0 {
							line += " (" + textfmt.Size(r.Bytes) + ")"
						}
						fmt.Fprintln(stdout, line)
					}
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				res, err := maintenance.Prune(ctx, s, opts)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "freed %s: %d cache entries, %d blobs, %d unpacked layers, %d native bases, %d leftovers\n",
					textfmt.Size(res.Bytes), res.Entries, res.Blobs, res.Unpacked, res.Bases, res.Leftovers)
				return err
			}
		},
	}
}

// parseSize reads a size: bytes, or a number with a unit k, m, g or t
// (powers of 1024; "B", "iB" suffixes allowed), e.g. "10GB", "1.5GiB".
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := float64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with k, m, g or t, e.g. 10GB", s)
	}
	return int64(v * mult), nil
}
