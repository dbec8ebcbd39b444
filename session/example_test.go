package session_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/maintenance"
	"github.com/minibuild/minibuild/progress"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/store"
)

// Build a Dockerfile as a library: open a root, give the session its
// tools and settings, and render its events as the CLI does.
func Example() {
	ctx := context.Background()
	s, err := store.Open("/var/lib/minibuild")
	if err != nil {
		panic(err)
	}
	_, _ = maintenance.CleanStale(s) // once per process: what dead builds left
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		panic(err)
	}
	defer unlock()
	root, err := session.OpenRoot(s)
	if err != nil {
		panic(err)
	}
	df, err := dockerfile.Parse(strings.NewReader("FROM scratch\nCOPY . /app\n"), "Dockerfile")
	if err != nil {
		panic(err)
	}
	bctx, err := root.Context("src", "src/Dockerfile", true)
	if err != nil {
		panic(err)
	}
	defer bctx.Close()
	snap, err := root.Snapshotter(session.SnapshotAuto, nil)
	if err != nil {
		panic(err)
	}
	defer root.EmptyTrash()
	r := progress.New(progress.Plain, os.Stderr)
	res, err := session.Build(ctx, session.Options{
		Tools: session.Tools{Store: s, Cache: root.Cache, Context: bctx, Snapshotter: snap,
			Executor: root.Executor(""), Reporter: r, Results: root.Results(), Stdout: os.Stdout},
		Settings: session.Settings{
			Build:   builder.Settings{Dockerfile: df, DockerfilePath: "/abs/src/Dockerfile"},
			Tags:    []string{"app:dev"},
			Outputs: []session.Output{{Kind: session.OutputOCI, Dest: "out"}},
		},
	})
	if err != nil {
		panic(err)
	}
	for _, st := range res.Steps {
		fmt.Println(st.Index, st.Cache, st.Reason)
	}
}
