package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/results"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func reportCommand() command {
	return command{
		name:    "report",
		summary: "Draw an image's layer stack, stage graph and cache cascade: an HTML page, text, or the stage graph as SVG",
		usage:   "minibuild report [--root DIR] [--compare OTHER] [--format html|text|svg] [--platform os/arch[/variant]] -o FILE NAME",
		example: `  minibuild report app:dev -o app.html                        # the stack, the stages, each step's cache result and why
  minibuild report app:after --compare app:before -o diff.html  # two builds side by side, steps aligned
  minibuild report --format text app:dev                        # the same as text on stdout: summary, stages, steps
  minibuild report --format svg app:dev -o stages.svg           # the stage graph alone, stages in columns by depth
  minibuild report --format text --platform linux/arm64 app:multi  # one platform's image of a multi-platform build
  minibuild -t app:dev --report app.html .                      # the page, written by the build itself`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			compare := fs.String("compare", "", "draw this earlier build of the same Dockerfile beside NAME (before on the left)")
			out := fs.StringP("output", "o", "", "write the report to FILE (- for stdout; the default for text)")
			format := fs.String("format", "html", "html (the page), text, or svg (the stage graph alone)")
			platformFlag := addPlatform(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("report: want exactly one image name")}
				}
				switch *format {
				case "html":
				case "text", "svg":
					if *compare != "" {
						return usageError{fmt.Errorf("report: --compare draws an HTML page; it cannot be used with --format %s", *format)}
					}
				default:
					return usageError{fmt.Errorf("report: unknown --format %q (want html, text or svg)", *format)}
				}
				if *out == "" && *format == "text" {
					*out = "-"
				}
				if *out == "" {
					return usageError{fmt.Errorf("report: -o FILE.%s is required (- for stdout)", *format)}
				}
				want, err := parsePlatformFlag("report", *platformFlag)
				if err != nil {
					return err
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				after, err := loadReportBuild(s, args[0], want, stderr)
				if err != nil {
					return err
				}
				var page bytes.Buffer
				switch {
				case *format == "text":
					err = report.Text(&page, after)
				case *format == "svg":
					if err = report.GraphSVG(&page, after); errors.Is(err, report.ErrNoGraph) {
						err = fmt.Errorf("report: %s: %w (it was built before minibuild kept one, or its results are gone); --format html or text draw what there is", args[0], err)
					}
				case *compare == "":
					err = report.HTML(&page, after)
				default:
					var before report.Build
					if before, err = loadReportBuild(s, *compare, want, stderr); err != nil {
						return err
					}
					err = report.CompareHTML(&page, before, after)
				}
				if err != nil {
					return err
				}
				return writeOut(*out, page.Bytes(), stdout)
			}
		},
	}
}

// resultsDir is where builds keep their step results in the store.
func resultsDir(s *store.Store) results.Dir {
	return results.Dir(rootdir.At(s.Root()).Reports())
}

// loadReportBuild reads image name from the store (an index's image for
// platform want, nil: the host's), with the cache results its build
// saved when there are any.
func loadReportBuild(s *store.Store, name string, want *ocispec.Platform, stderr io.Writer) (report.Build, error) {
	st, err := loadImage(s, name, want, stderr)
	if err != nil {
		return report.Build{}, err
	}
	saved, _ := resultsDir(s).Load(name, st.Descriptor.Digest)
	return st.Report(name, saved), nil
}

// writeOut writes data to path atomically, or to stdout for "-".
func writeOut(path string, data []byte, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
