package builder

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/internal/platform"
)

// stageName is how step results name a stage: its AS name, else its index.
func stageName(st *dockerfile.Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return strconv.Itoa(st.Index)
}

// stageRef finds the stage a FROM or COPY --from name refers to: an
// earlier stage by its AS name or by its index. It reports -1 when the
// name is not a stage (then it names an image).
func (b *build) stageRef(name string, before int) int {
	for _, st := range b.set.Dockerfile.Stages[:before] {
		if st.Name != "" && strings.EqualFold(st.Name, name) {
			return st.Index
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < before {
		return n
	}
	return -1
}

// neededStages lists, in Dockerfile order, the stages target depends on
// (through FROM, COPY --from and RUN --mount from=) and target itself: only those are built.
func (b *build) neededStages(target *dockerfile.Stage) []int {
	need := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if need[i] {
			return
		}
		need[i] = true
		for _, dep := range b.stageDeps(b.set.Dockerfile.Stages[i]) {
			visit(dep)
		}
	}
	visit(target.Index)
	var out []int
	for i := range need {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// stageDeps lists the earlier stages st needs, in Dockerfile order: the
// stage it is FROM, and those its COPY --from and RUN --mount from= name.
func (b *build) stageDeps(st *dockerfile.Stage) []int {
	i := st.Index
	deps := map[int]bool{}
	if dep := b.stageRef(b.fromName(st.From), i); dep >= 0 {
		deps[dep] = true
	}
	for _, inst := range st.Instructions {
		for _, from := range b.mountFroms(inst) {
			if dep := b.stageRef(from, i); dep >= 0 {
				deps[dep] = true
			}
		}
		if c, ok := inst.(*dockerfile.CopyInstruction); ok && c.From != "" {
			from, _, err := b.expander.Word(c.From, b.metaEnv())
			if err != nil {
				from = c.From
			}
			if dep := b.stageRef(from, i); dep >= 0 {
				deps[dep] = true
			}
		}
	}
	var out []int
	for d := range deps {
		out = append(out, d)
	}
	sort.Ints(out)
	return out
}

// mountFroms are the from= of a RUN's mounts (which cannot hold
// variables), or none when its mounts do not parse yet (the step itself
// reports that).
func (b *build) mountFroms(inst dockerfile.Instruction) []string {
	run, ok := inst.(*dockerfile.RunInstruction)
	if !ok || len(run.MountFlags) == 0 {
		return nil
	}
	expanded, _, err := b.expander.Expand(run, b.file, b.metaEnv())
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range expanded.(*dockerfile.RunInstruction).Mounts {
		if m.From != "" {
			out = append(out, m.From)
		}
	}
	return out
}

// fromName is a FROM's image name after expanding the global ARGs.
func (b *build) fromName(f *dockerfile.FromInstruction) string {
	name, _, err := b.expander.Word(f.Image, b.metaEnv())
	if err != nil {
		return f.Image
	}
	return name
}

// noteDirectives reports the parser directives minibuild accepts but does
// not act on.
func (b *build) noteDirectives() {
	for _, d := range []string{"syntax", "check"} {
		if v, ok := b.set.Dockerfile.Directives[d]; ok {
			b.tools.Reporter.Report(Warning{Message: fmt.Sprintf("note: the # %s=%s directive is accepted and ignored: minibuild has its own Dockerfile frontend", d, v)})
		}
	}
}

// warnUnconsumed warns about --build-arg values no ARG declared, as Docker does.
func (b *build) warnUnconsumed() {
	var unused []string
	for k := range b.set.BuildArgs {
		if !b.g.isConsumed(k) && !proxyArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		b.tools.Reporter.Report(Warning{Message: fmt.Sprintf("one or more build-args %v were not consumed", unused)})
	}
}

// proxyArgs are Docker's predefined build args: usable without an ARG,
// and left out of the cache key and the image history.
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

// platformArgs are the predefined platform args of the global scope.
func (b *build) platformArgs() []string {
	p := b.set.Platform
	plat := platform.Format(p)
	host := platform.Host()
	return []string{
		"BUILDPLATFORM=" + platform.Format(host), "BUILDOS=" + host.OS, "BUILDARCH=" + host.Architecture, "BUILDVARIANT=" + host.Variant,
		"TARGETPLATFORM=" + plat, "TARGETOS=" + p.OS, "TARGETARCH=" + p.Architecture, "TARGETVARIANT=" + p.Variant,
	}
}
