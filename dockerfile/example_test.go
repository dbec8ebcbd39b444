package dockerfile_test

import (
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
)

func Example() {
	src := `ARG BASE=alpine
FROM ${BASE}:3.20 AS app
ENV DIR=/srv NAME=demo
ENV DIR=/opt LOG=${DIR}/log
WORKDIR $DIR/$NAME
`
	df, err := dockerfile.Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		fmt.Println(err)
		return
	}
	x := dockerfile.NewExpander(df.Escape)

	// FROM sees only the meta ARGs.
	from, _, _ := x.Expand(df.Stages[0].From, df.File, []string{"BASE=alpine"})
	fmt.Println("FROM", from.(*dockerfile.FromInstruction).Image)

	// Each instruction sees the environment left by the ones before it.
	var env []string
	for _, inst := range df.Stages[0].Instructions {
		out, names, err := x.Expand(inst, df.File, env)
		if err != nil {
			fmt.Println(err)
			return
		}
		switch v := out.(type) {
		case *dockerfile.EnvInstruction:
			for _, p := range v.Pairs {
				env = append(env, p.Key+"="+p.Value)
				fmt.Printf("line %d: %s=%s\n", v.Line(), p.Key, p.Value)
			}
		case *dockerfile.WorkdirInstruction:
			fmt.Printf("line %d: WORKDIR %s (uses %v)\n", v.Line(), v.Path, names)
		}
	}
	// Output:
	// FROM alpine:3.20
	// line 3: DIR=/srv
	// line 3: NAME=demo
	// line 4: DIR=/opt
	// line 4: LOG=/srv/log
	// line 5: WORKDIR /opt/demo (uses [DIR NAME])
}

func ExampleError() {
	_, err := dockerfile.Parse(strings.NewReader("FROM alpine\nCOPY --foo=x a b\n"), "Dockerfile")
	fmt.Println(err)
	// Output: Dockerfile:2: unknown flag: foo
}

func ExampleParseMount() {
	m, err := dockerfile.ParseMount("type=cache,target=/root/.cache,sharing=locked,uid=1000")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Type, m.Target, m.Sharing, *m.UID, "read-only:", m.ReadOnly)
	_, err = dockerfile.ParseMount("type=cache,tagret=/c")
	fmt.Println(err)
	// Output:
	// cache /root/.cache locked 1000 read-only: false
	// unexpected key 'tagret' in 'tagret=/c' (did you mean target?)
}

func ExampleExpander_Expand_runMount() {
	src := "FROM alpine\nARG ID=apk\nRUN --mount=type=cache,id=$ID,target=/var/cache/apk apk add git\n"
	df, err := dockerfile.Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		fmt.Println(err)
		return
	}
	run := df.Stages[0].Instructions[1]
	out, names, err := dockerfile.NewExpander(df.Escape).Expand(run, df.File, []string{"ID=apk"})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := out.(*dockerfile.RunInstruction).Mounts[0]
	fmt.Println(m.Type, m.ID, m.Target, names)
	// Output: cache apk /var/cache/apk [ID]
}
