package dockerfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// expandStage expands the instructions of a one-stage Dockerfile in order,
// the way a builder does (each ARG default and ENV pair joins the
// environment), and returns its last instruction expanded, the names it
// referenced and its error.
func expandStage(t *testing.T, src string) (*RunInstruction, []string, error) {
	t.Helper()
	df, err := Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	x := NewExpander(df.Escape)
	var env []string
	insts := df.Stages[0].Instructions
	for _, inst := range insts[:len(insts)-1] {
		out, _, err := x.Expand(inst, df.File, env)
		if err != nil {
			t.Fatal(err)
		}
		switch v := out.(type) {
		case *ArgInstruction:
			for _, a := range v.Args {
				if a.Value != nil {
					env = append(env, a.Key+"="+*a.Value)
				}
			}
		case *EnvInstruction:
			for _, p := range v.Pairs {
				env = append(env, p.Key+"="+p.Value)
			}
		}
	}
	out, names, err := x.Expand(insts[len(insts)-1], df.File, env)
	if err != nil {
		return nil, nil, err
	}
	return out.(*RunInstruction), names, nil
}

func TestExpandRunMounts(t *testing.T) {
	tests := []struct {
		name  string
		src   string // a Dockerfile whose last instruction is the RUN
		want  []Mount
		names []string
	}{
		{"cache id from an ARG", "FROM a\nARG ID=x\nRUN --mount=type=cache,id=$ID,target=/c true",
			[]Mount{{Type: MountCache, ID: "x", Target: "/c"}}, []string{"ID"}},
		{"target from an ENV", "FROM a\nENV DIR=/srv\nRUN --mount=type=cache,target=${DIR}/cache true",
			[]Mount{{Type: MountCache, Target: "/srv/cache"}}, []string{"DIR"}},
		{"ENV over ARG", "FROM a\nARG DIR=/arg\nENV DIR=/env\nRUN --mount=type=cache,target=$DIR true",
			[]Mount{{Type: MountCache, Target: "/env"}}, []string{"DIR"}},
		{"type and size from variables", "FROM a\nARG T=tmpfs SIZE=1g\nRUN --mount=type=$T,target=/t,size=$SIZE true",
			[]Mount{{Type: MountTmpfs, Target: "/t", Size: 1 << 30}}, []string{"SIZE", "T"}},
		{"type from a variable sets the default of ReadOnly", "FROM a\nARG T=secret\nRUN --mount=type=$T,id=s,required true",
			[]Mount{{Type: MountSecret, ID: "s", ReadOnly: true, Required: true}}, []string{"T"}},
		{"ro from a variable", "FROM a\nARG RO=false\nRUN --mount=target=/b,ro=$RO true",
			[]Mount{{Type: MountBind, Target: "/b"}}, []string{"RO"}},
		{"default of an unset variable", "FROM a\nRUN --mount=type=cache,id=${ID:-dflt},target=/c true",
			[]Mount{{Type: MountCache, ID: "dflt", Target: "/c"}}, []string{"ID"}},
		{"uid, gid and mode from variables", "FROM a\nARG U=1000 M=0700\nRUN --mount=type=cache,target=/c,uid=$U,gid=$U,mode=$M true",
			[]Mount{{Type: MountCache, Target: "/c", UID: u32(1000), GID: u32(1000), Mode: u32(0o700)}}, []string{"M", "U"}},
		{"secret env from a variable", "FROM a\nARG V=TOKEN\nRUN --mount=type=secret,id=t,env=$V true",
			[]Mount{{Type: MountSecret, ID: "t", ReadOnly: true, Env: ptr("TOKEN")}}, []string{"V"}},
		{"from with a trailing dollar", "FROM a\nRUN --mount=from=st$,target=/x true",
			[]Mount{{Type: MountBind, From: "st$", Target: "/x", ReadOnly: true}}, []string{}},
		{"single quotes are removed", "FROM a\nARG D=/d\nRUN --mount=\"type=bind,target='$D x'\" true",
			[]Mount{{Type: MountBind, Target: "$D x", ReadOnly: true}}, []string{}},
		{"double quotes inside a csv quote", "FROM a\nARG D=/d\nRUN --mount='\"target=\"\"$D x\"\"\",rw' true",
			[]Mount{{Type: MountBind, Target: "/d x"}}, []string{"D"}},
		{"escaped dollar", "FROM a\nARG ID=x\nRUN --mount=type=cache,target=/c,id=\\\\$ID true",
			[]Mount{{Type: MountCache, Target: "/c", ID: "$ID"}}, []string{}},
		{"backtick escape keeps backslashes", "# escape=`\nFROM a\nRUN --mount=type=cache,target=/c,id=a\\b true",
			[]Mount{{Type: MountCache, Target: "/c", ID: `a\b`}}, []string{}},
		{"keys are not expanded, values are", "FROM a\nARG K=target\nRUN --mount=TYPE=cache,TARGET=/$K true",
			[]Mount{{Type: MountCache, Target: "/target"}}, []string{"K"}},
		{"several mounts in order", "FROM a\nARG GO=/go\nRUN --mount=type=cache,target=$GO/pkg --mount=type=tmpfs,target=/tmp --mount=target=/src,source=. true",
			[]Mount{{Type: MountCache, Target: "/go/pkg"}, {Type: MountTmpfs, Target: "/tmp"}, {Type: MountBind, Source: ".", Target: "/src", ReadOnly: true}},
			[]string{"GO"}},
		{"no mounts", "FROM a\nRUN --network=none true", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, names, err := expandStage(t, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(run.Mounts, tt.want) {
				var got, want []string
				for _, m := range run.Mounts {
					got = append(got, mountString(m))
				}
				for _, m := range tt.want {
					want = append(want, mountString(m))
				}
				t.Errorf("Mounts =\n %s\nwant\n %s", got, want)
			}
			if len(run.MountFlags) != len(run.Mounts) {
				t.Errorf("%d MountFlags, %d Mounts", len(run.MountFlags), len(run.Mounts))
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Errorf("names = %q, want %q", names, tt.names)
			}
		})
	}
}

func TestExpandRunMountErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"type from a variable", "FROM a\nARG T=volume\nRUN --mount=type=$T,target=/v true",
			`Dockerfile:3: RUN: --mount=type=$T,target=/v: unsupported mount type "volume"`},
		{"empty target", "FROM a\nRUN --mount=type=cache,target=$NONE true",
			`Dockerfile:2: RUN: --mount=type=cache,target=$NONE: mount target is required for "cache" type mounts`},
		{"required on the type a variable gives", "FROM a\nARG T=bind\nRUN --mount=type=$T,target=/b,required true",
			`Dockerfile:3: RUN: --mount=type=$T,target=/b,required: unexpected key 'required' for mount type 'bind'`},
		{"bad size", "FROM a\nARG S=lots\nRUN --mount=type=tmpfs,target=/t,size=$S true",
			`Dockerfile:3: RUN: --mount=type=tmpfs,target=/t,size=$S: invalid value for size: lots`},
		{"secret source and id", "FROM a\nARG ID=x\nRUN --mount=type=secret,source=a,id=$ID true",
			`Dockerfile:3: RUN: --mount=type=secret,source=a,id=$ID: both source and id can't be set`},
		{"required variable", "FROM a\nRUN --mount=type=cache,target=${T:?unset} true",
			`Dockerfile:2: RUN: --mount=type=cache,target=${T:?unset}: failed to process "${T:?unset}": T: unset`},
		{"second mount", "FROM a\nARG M=0999\nRUN --mount=type=cache,target=/a \\\n  --mount=type=cache,target=/b,mode=$M true",
			`Dockerfile:3: RUN: --mount=type=cache,target=/b,mode=$M: invalid value 0999 for mode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := expandStage(t, tt.src)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n %q\nwant\n %q", err.Error(), tt.want)
			}
		})
	}
}

// TestParseRunMounts checks --mount values at parse time: a bad option
// fails with the RUN's line, and a value with variables is left for later.
func TestParseRunMounts(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"good mounts", "FROM a\nRUN --mount=type=cache,target=/c --mount=type=secret,id=s,required true", ""},
		{"unknown key", "FROM a\nRUN --mount=type=cache,target=/c,colour=red true",
			"Dockerfile:2: --mount=type=cache,target=/c,colour=red: unexpected key 'colour' in 'colour=red'"},
		{"line of a continued RUN", "FROM a\nRUN true\nRUN --network=none \\\n  --mount=type=cahce,target=/c \\\n  true",
			`Dockerfile:3: --mount=type=cahce,target=/c: unsupported mount type "cahce" (did you mean cache?)`},
		{"second mount is named", "FROM a\nRUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t,size=1q true",
			"Dockerfile:2: --mount=type=tmpfs,target=/t,size=1q: invalid value for size: 1q"},
		{"from with a variable", "FROM a\nARG STAGE=b\nRUN --mount=from=$STAGE,target=/x true",
			"Dockerfile:3: --mount=from=$STAGE,target=/x: 'from' doesn't support variable expansion, define alias stage instead"},
		{"from with braces", "FROM a\nRUN --mount=type=cache,target=/x,from=${S}x true",
			"Dockerfile:2: --mount=type=cache,target=/x,from=${S}x: 'from' doesn't support variable expansion, define alias stage instead"},
		{"from with a trailing dollar", "FROM a\nRUN --mount=from=st$,target=/x true", ""},
		{"bare variable", "FROM a\nRUN --mount=type=cache,target=/c,$OPTS true",
			"Dockerfile:2: --mount=type=cache,target=/c,$OPTS: invalid field '$OPTS' must be a key=value pair"},
		{"unknown key beside a variable", "FROM a\nRUN --mount=type=cache,target=$T,colour=red true",
			"Dockerfile:2: --mount=type=cache,target=$T,colour=red: unexpected key 'colour' in 'colour=red'"},
		{"rule that needs no variable", "FROM a\nRUN --mount=type=cache,id=$ID,target=/c,size=1m true",
			"Dockerfile:2: --mount=type=cache,id=$ID,target=/c,size=1m: unexpected key 'size' for mount type 'cache'"},
		{"bad value beside a variable", "FROM a\nRUN --mount=type=cache,target=$T,mode=0999 true",
			"Dockerfile:2: --mount=type=cache,target=$T,mode=0999: invalid value 0999 for mode"},
		{"empty target without variables", "FROM a\nRUN --mount=type=cache,id=x true",
			`Dockerfile:2: --mount=type=cache,id=x: mount target is required for "cache" type mounts`},
		{"empty mount", "FROM a\nRUN --mount= true",
			"Dockerfile:2: --mount=: empty mount: want key=value fields such as type=cache,target=/dir"},
		{"quotes are removed before checking", "FROM a\nRUN --mount=\"type='cache',target=/c\" true", ""},
		{"type from a variable is left for later", "FROM a\nRUN --mount=type=$T,target=/b,required,size=1m,mode=0700 true", ""},
		{"target from a variable is left for later", "FROM a\nRUN --mount=type=cache,target=$T true", ""},
		{"secret name from a variable is left for later", "FROM a\nRUN --mount=type=secret,id=$ID,source=a true", ""},
		{"value from a variable is left for later", "FROM a\nRUN --mount=type=tmpfs,target=/t,size=$SIZE true", ""},
		{"escaped dollar is left for later", "FROM a\nRUN --mount=type=tmpfs,target=/t,size=\\\\$x true", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.src), "Dockerfile")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n %q\nwant\n %q", err.Error(), tt.want)
			}
		})
	}
}
