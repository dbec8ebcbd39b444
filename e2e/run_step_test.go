package e2e

import (
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRunStep: run --step KEY starts from the state a cached middle step
// left: it sees a file a later step deleted, with the step's environment;
// the last step's state has no such file; an unknown key fails clearly.
func TestRunStep(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nENV STAGE=demo\nRUN echo \"made by step 3\" > /f\nRUN rm /f\n"})
	md, _ := build(t, root, ctx, "-t", "steps:1")
	var middle, last string
	for _, s := range md.Steps {
		if strings.HasPrefix(s.Instruction, "RUN echo") {
			middle = s.Key
		}
		last = s.Key
	}
	if h := mustMB(t, "history", "--root", root, "--keys", "steps:1").stdout; !strings.Contains(h, middle) || !strings.Contains(h, last) {
		t.Errorf("history --keys lacks the steps' keys %s and %s:\n%s", middle, last, h)
	}
	r := mustMB(t, "run", "--root", root, "--step", middle, "--", "sh", "-c", "cat /f; echo STAGE=$STAGE")
	if r.stdout != "made by step 3\nSTAGE=demo\n" {
		t.Errorf("run --step of the middle step printed %q", r.stdout)
	}
	if r := mb(t, "run", "--root", root, "--step", last, "--", "cat", "/f"); r.code != 1 {
		t.Errorf("run --step of the last step: exit %d (the file should be gone)\n%s", r.code, r.stderr)
	}
	// A failed RUN says how to look at the state it ran on.
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nENV STAGE=demo\nRUN echo \"made by step 3\" > /f\nRUN cat /nope\n"})
	fail := mb(t, "build", "--root", root, ctx)
	hint := "(to look at the state it ran on: minibuild run --step " + middle + " -- sh)"
	if fail.code == 0 || !strings.Contains(fail.stderr, hint) {
		t.Errorf("a failed RUN does not say %q:\n%s", hint, fail.stderr)
	}
	bogus := "sha256:" + strings.Repeat("ab", 32)
	if r := mb(t, "run", "--root", root, "--step", bogus, "--", "true"); r.code != 125 || !strings.Contains(r.stderr, "no such cache entry") {
		t.Errorf("unknown step: exit %d\n%s", r.code, r.stderr)
	}
}

// TestOnErrorShell: on a terminal (script(1) gives one), build --on-error
// shell opens a shell in the state a failed RUN ran on, with its ENV and
// WORKDIR; the build still fails.
func TestOnErrorShell(t *testing.T) {
	requireRoot(t)
	script := requireTool(t, "script")
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nENV STAGE=debug\nWORKDIR /w\nRUN echo ok > /ok\nRUN ls /nope\n"})
	cmd := exec.Command(script, "-qec", bin+" build --root "+root+" --progress plain --on-error shell "+ctx, "/dev/null")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(2 * time.Second)
		io.WriteString(in, "echo \"IN-SHELL $(cat /ok) $STAGE $(pwd)\"\n")
		time.Sleep(time.Second)
		io.WriteString(in, "exit\n")
		in.Close()
	}()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Error("the build succeeded after its RUN failed")
	}
	if !strings.Contains(string(out), "IN-SHELL ok debug /w") {
		t.Errorf("no shell in the failed step's state:\n%s", out)
	}
}
