package dockerfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestExpanderWord(t *testing.T) {
	env := []string{"A=alpha", "EMPTY=", "B=first", "B=second", "SP=a b"}
	tests := []struct {
		name   string
		escape rune
		word   string
		want   string
		names  []string
	}{
		{"plain", '\\', "no variables", "no variables", []string{}},
		{"dollar", '\\', "$A/x", "alpha/x", []string{"A"}},
		{"braces", '\\', "${A}x", "alphax", []string{"A"}},
		{"unset is empty", '\\', "[$NOPE]", "[]", []string{"NOPE"}},
		{"later entries win", '\\', "$B", "second", []string{"B"}},
		{"default when unset", '\\', "${NOPE:-def}", "def", []string{"NOPE"}},
		{"default when empty", '\\', "${EMPTY:-def}", "def", []string{"EMPTY"}},
		{"dash default keeps empty", '\\', "${EMPTY-def}", "", []string{"EMPTY"}},
		{"default not used when set", '\\', "${A:-def}", "alpha", []string{"A"}},
		{"default refers to variable", '\\', "${NOPE:-$A}", "alpha", []string{"A", "NOPE"}},
		{"alt when set", '\\', "${A:+alt}", "alt", []string{"A"}},
		{"alt when unset", '\\', "${NOPE:+alt}", "", []string{"NOPE"}},
		{"alt when empty", '\\', "${EMPTY:+alt}", "", []string{"EMPTY"}},
		{"plus alt when empty", '\\', "${EMPTY+alt}", "alt", []string{"EMPTY"}},
		{"escaped dollar", '\\', `\$A`, "$A", []string{}},
		{"escaped braces", '\\', `\${A}`, "${A}", []string{}},
		{"single quotes", '\\', `'$A'`, "$A", []string{}},
		{"double quotes", '\\', `"$A b"`, "alpha b", []string{"A"}},
		{"escaped quote", '\\', `"say \"hi\""`, `say "hi"`, []string{}},
		{"backtick escapes dollar", '`', "`$A", "$A", []string{}},
		{"backtick keeps backslash", '`', `c:\dir\$A`, `c:\dir\alpha`, []string{"A"}},
		{"backslash escapes with default token", '\\', `c:\dir`, "c:dir", []string{}},
		{"prefix trim", '\\', "${A#al}", "pha", []string{"A"}},
		{"suffix trim", '\\', "${A%ha}", "alp", []string{"A"}},
		{"substitution", '\\', "${A/ph/PH}", "alPHa", []string{"A"}},
		{"names sorted and unique", '\\', "$B$A$B${C:-$A}", "secondalphasecondalpha", []string{"A", "B", "C"}},
		{"value with spaces stays one word", '\\', "$SP", "a b", []string{"SP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, names, err := NewExpander(tt.escape).Word(tt.word, env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Word(%q) = %q, want %q", tt.word, got, tt.want)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Errorf("Word(%q) names = %q, want %q", tt.word, names, tt.names)
			}
		})
	}
}

func TestExpanderWordErrors(t *testing.T) {
	tests := []struct{ word, want string }{
		{"${A", "unsupported modifier"},
		{"${A:-x", "missing '}'"},
		{"${NOPE:?must be set}", "NOPE: must be set"},
		{"${NOPE?}", "NOPE: is not allowed to be unset"},
		{`"unterminated`, "matching double-quote"},
		{"'unterminated", "matching single-quote"},
		{"${}", "bad substitution"},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			_, _, err := NewExpander('\\').Word(tt.word, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Word(%q) error = %v, want it to contain %q", tt.word, err, tt.want)
			}
		})
	}
}

func TestExpanderWords(t *testing.T) {
	env := []string{"PORTS=443 8080/udp", "ONE=9000"}
	tests := []struct {
		word  string
		want  []string
		names []string
	}{
		{"80", []string{"80"}, []string{}},
		{"$PORTS", []string{"443", "8080/udp"}, []string{"PORTS"}},
		{"80 $ONE", []string{"80", "9000"}, []string{"ONE"}},
		{`"a b" c`, []string{"a b", "c"}, []string{}},
		{"${MISSING}", nil, []string{"MISSING"}},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			got, names, err := NewExpander(0).Words(tt.word, env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Words(%q) = %q, want %q", tt.word, got, tt.want)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Errorf("Words(%q) names = %q, want %q", tt.word, names, tt.names)
			}
		})
	}
}

// parseOne parses a one-stage Dockerfile and returns its last instruction.
func parseOne(t *testing.T, src string) (*Dockerfile, Instruction) {
	t.Helper()
	df, err := Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	insts := df.Stages[len(df.Stages)-1].Instructions
	if len(insts) == 0 {
		return df, df.Stages[len(df.Stages)-1].From
	}
	return df, insts[len(insts)-1]
}

func TestExpandInstructions(t *testing.T) {
	tests := []struct {
		name  string
		src   string // a Dockerfile; its last instruction is expanded
		env   []string
		want  any // the fields of the expanded instruction
		names []string
	}{
		{
			name:  "ENV sees values from before the instruction",
			src:   "FROM a\nENV A=1 B=${A}2",
			want:  []KeyValue{{"A", "1"}, {"B", "2"}},
			names: []string{"A"},
		},
		{
			name:  "ENV with A set before",
			src:   "FROM a\nENV A=1 B=${A}2",
			env:   []string{"A=old"},
			want:  []KeyValue{{"A", "1"}, {"B", "old2"}},
			names: []string{"A"},
		},
		{
			name:  "ENV legacy form, quotes and escapes",
			src:   "FROM a\nENV GREETING \"hello  $WHO\" 'and $WHO' \\$WHO",
			env:   []string{"WHO=world"},
			want:  []KeyValue{{"GREETING", "hello  world and $WHO $WHO"}},
			names: []string{"WHO"},
		},
		{
			name:  "ENV key is expanded too",
			src:   "FROM a\nENV ${K}_SUFFIX=v",
			env:   []string{"K=KEY"},
			want:  []KeyValue{{"KEY_SUFFIX", "v"}},
			names: []string{"K"},
		},
		{
			name:  "LABEL quotes removed",
			src:   "FROM a\nLABEL \"my key\"=\"a \\\"b\\\"\" version=$V",
			env:   []string{"V=1.2"},
			want:  []KeyValue{{"my key", `a "b"`}, {"version", "1.2"}},
			names: []string{"V"},
		},
		{
			name:  "ARG defaults chain within the instruction",
			src:   "FROM a\nARG A=1 B=${A}x C",
			want:  []Arg{{Key: "A", Value: ptr("1")}, {Key: "B", Value: ptr("1x")}, {Key: "C"}},
			names: []string{"A"},
		},
		{
			name:  "ARG default with fallback",
			src:   "FROM a\nARG V=${VERSION:-1.0}",
			want:  []Arg{{Key: "V", Value: ptr("1.0")}},
			names: []string{"VERSION"},
		},
		{
			name:  "WORKDIR",
			src:   "FROM a\nWORKDIR /home/$USER/${DIR:-src}",
			env:   []string{"USER=me"},
			want:  "/home/me/src",
			names: []string{"DIR", "USER"},
		},
		{
			name:  "USER",
			src:   "FROM a\nUSER ${UID}:${GID}",
			env:   []string{"UID=1000", "GID=1001"},
			want:  "1000:1001",
			names: []string{"GID", "UID"},
		},
		{
			name:  "STOPSIGNAL",
			src:   "FROM a\nSTOPSIGNAL $SIG",
			env:   []string{"SIG=SIGQUIT"},
			want:  "SIGQUIT",
			names: []string{"SIG"},
		},
		{
			name:  "VOLUME",
			src:   "FROM a\nVOLUME [\"$DATA\", \"/logs\"]",
			env:   []string{"DATA=/data"},
			want:  []string{"/data", "/logs"},
			names: []string{"DATA"},
		},
		{
			name:  "EXPOSE splits expanded words",
			src:   "FROM a\nEXPOSE 80 $MORE",
			env:   []string{"MORE=443 8080/udp"},
			want:  []string{"80", "443", "8080/udp"},
			names: []string{"MORE"},
		},
		{
			name:  "FROM image and platform",
			src:   "ARG BASE\nFROM --platform=$PLAT ${BASE}:${TAG:-latest} AS b",
			env:   []string{"BASE=alpine", "PLAT=linux/arm64"},
			want:  [3]string{"alpine:latest", "b", "linux/arm64"},
			names: []string{"BASE", "PLAT", "TAG"},
		},
		{
			name:  "COPY sources, dest and flags",
			src:   "FROM a\nCOPY --from=$STAGE --chown=$U:$G --chmod=$M --exclude=$X src/$F \"$D\"/",
			env:   []string{"STAGE=build", "U=1", "G=2", "M=0755", "F=app", "D=/opt dir", "X=keep"},
			want:  [6]string{"build", "1:2", "0755", "src/app", "/opt dir/", "$X"},
			names: []string{"D", "F", "G", "M", "STAGE", "U"},
		},
		{
			name:  "COPY heredoc body is expanded when unquoted",
			src:   "FROM a\nCOPY <<EOF /x\nhello $WHO \"quoted\" \\$WHO\nEOF\n",
			env:   []string{"WHO=world"},
			want:  "hello world \"quoted\" $WHO\n",
			names: []string{"WHO"},
		},
		{
			name:  "COPY heredoc body is kept when quoted",
			src:   "FROM a\nCOPY <<'EOF' /x\nhello $WHO\nEOF\n",
			env:   []string{"WHO=world"},
			want:  "hello $WHO\n",
			names: []string{},
		},
		{
			name:  "ADD checksum",
			src:   "FROM a\nADD --checksum=$SUM https://x/y /y",
			env:   []string{"SUM=sha256:abc"},
			want:  [6]string{"", "", "", "https://x/y", "/y", "sha256:abc"},
			names: []string{"SUM"},
		},
		{
			name:  "RUN command is not expanded, its mounts are",
			src:   "FROM a\nRUN --mount=type=cache,target=$T echo $HOME",
			env:   []string{"HOME=/root", "T=/c"},
			want:  []string{"echo $HOME"},
			names: []string{"T"},
		},
		{
			name:  "CMD is not expanded",
			src:   "FROM a\nCMD [\"$HOME\"]",
			env:   []string{"HOME=/root"},
			want:  []string{"$HOME"},
			names: []string{},
		},
		{
			name:  "HEALTHCHECK is not expanded",
			src:   "FROM a\nHEALTHCHECK CMD curl $URL",
			env:   []string{"URL=x"},
			want:  []string{"CMD-SHELL", "curl $URL"},
			names: []string{},
		},
		{
			name:  "ONBUILD is not expanded",
			src:   "FROM a\nONBUILD RUN echo $X",
			env:   []string{"X=1"},
			want:  "RUN echo $X",
			names: []string{},
		},
		{
			name:  "backtick escape directive",
			src:   "# escape=`\nFROM a\nWORKDIR c:\\$DIR\\`$NOT",
			env:   []string{"DIR=app"},
			want:  `c:\app\$NOT`,
			names: []string{"DIR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df, inst := parseOne(t, tt.src)
			before := toGoldenInstruction(t, inst)
			out, names, err := NewExpander(df.Escape).Expand(inst, df.File, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if out.Line() != inst.Line() || out.Keyword() != inst.Keyword() || out.Text() != inst.Text() {
				t.Errorf("location changed: %d %s %q", out.Line(), out.Keyword(), out.Text())
			}
			if got := expandedFields(t, out); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("expanded = %#v, want %#v", got, tt.want)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Errorf("names = %q, want %q", names, tt.names)
			}
			if after := toGoldenInstruction(t, inst); !reflect.DeepEqual(before, after) {
				t.Errorf("Expand modified its input:\n%s\n%s", before.Fields, after.Fields)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// expandedFields picks the fields a test of Expand looks at.
func expandedFields(t *testing.T, inst Instruction) any {
	t.Helper()
	switch v := inst.(type) {
	case *EnvInstruction:
		return v.Pairs
	case *LabelInstruction:
		return v.Pairs
	case *ArgInstruction:
		return v.Args
	case *WorkdirInstruction:
		return v.Path
	case *UserInstruction:
		return v.User
	case *StopSignalInstruction:
		return v.Signal
	case *VolumeInstruction:
		return v.Paths
	case *ExposeInstruction:
		return v.Ports
	case *FromInstruction:
		return [3]string{v.Image, v.Name, v.Platform}
	case *CopyInstruction:
		if len(v.Heredocs) > 0 {
			return v.Heredocs[0].Content
		}
		return [6]string{v.From, v.Chown, v.Chmod, strings.Join(v.Sources, ","), v.Dest, v.Checksum + strings.Join(v.Excludes, ",")}
	case *RunInstruction:
		return v.Command
	case *CmdInstruction:
		return v.Command
	case *HealthcheckInstruction:
		return v.Test
	case *OnbuildInstruction:
		return v.Expression
	}
	t.Fatalf("no fields for %T", inst)
	return nil
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  []string
		want string
	}{
		{"bad substitution", "FROM a\nRUN true\nWORKDIR ${X:-y", nil, `Dockerfile:3: WORKDIR: failed to process "${X:-y": syntax error: missing '}'`},
		{"required variable", "FROM a\nENV A=\"${REQ:?set REQ}\"", nil, `Dockerfile:2: ENV: failed to process "\"${REQ:?set REQ}\"": REQ: set REQ`},
		{"blank base image", "ARG BASE\nFROM $BASE", nil, "Dockerfile:2: FROM: base name ($BASE) should not be blank"},
		{"blank platform", "FROM --platform=$P a", nil, "Dockerfile:1: FROM: empty platform value from expression $P"},
		{"empty volume", "FROM a\nVOLUME $NONE", nil, "Dockerfile:2: VOLUME: VOLUME specified can not be an empty string"},
		{"bad heredoc body", "FROM a\nCOPY <<EOF /x\n${}\nEOF\n", nil, "Dockerfile:2: COPY: failed to process \"${}\\n\": syntax error: bad substitution"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df, inst := parseOne(t, tt.src)
			_, _, err := NewExpander(df.Escape).Expand(inst, df.File, tt.env)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err.Error(), tt.want)
			}
		})
	}
}

func TestExpandNil(t *testing.T) {
	for _, inst := range []Instruction{nil, (*CopyInstruction)(nil)} {
		if _, _, err := NewExpander(0).Expand(inst, "Dockerfile", nil); err == nil {
			t.Errorf("Expand(%#v) succeeded", inst)
		}
	}
}

// TestExpandStageByStage walks a Dockerfile the way a builder does: meta
// ARGs expand FROM, and each instruction sees the env left by the ones before.
func TestExpandStageByStage(t *testing.T) {
	src := `ARG BASE=alpine
ARG TAG=${BASE}-tag
FROM ${BASE}:${TAG}
ENV DIR=/srv A=1
ENV A=2 B=${A}
WORKDIR $DIR/$B
`
	df, err := Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	x := NewExpander(df.Escape)
	var meta []string
	for _, a := range df.MetaArgs {
		out, _, err := x.Expand(a, df.File, meta)
		if err != nil {
			t.Fatal(err)
		}
		for _, arg := range out.(*ArgInstruction).Args {
			meta = append(meta, arg.Key+"="+*arg.Value)
		}
	}
	from, _, err := x.Expand(df.Stages[0].From, df.File, meta)
	if err != nil {
		t.Fatal(err)
	}
	if got := from.(*FromInstruction).Image; got != "alpine:alpine-tag" {
		t.Errorf("FROM image = %q", got)
	}
	var env []string
	var workdir string
	for _, inst := range df.Stages[0].Instructions {
		out, _, err := x.Expand(inst, df.File, env)
		if err != nil {
			t.Fatal(err)
		}
		switch v := out.(type) {
		case *EnvInstruction:
			for _, p := range v.Pairs {
				env = append(env, p.Key+"="+p.Value)
			}
		case *WorkdirInstruction:
			workdir = v.Path
		}
	}
	if workdir != "/srv/1" {
		t.Errorf("WORKDIR = %q, want /srv/1 (B takes A from before its ENV)", workdir)
	}
}
