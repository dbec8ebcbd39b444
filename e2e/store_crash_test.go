package e2e

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashDockerfile does a bit of everything a build writes: a large COPY
// layer (blob written and committed), RUN steps whose lower layers must be
// unpacked, cache entries, a config, a manifest and a tag. N changes every
// round, so the steps from the ARG on miss and write new layers.
const crashDockerfile = `FROM busybox:test
COPY big /big
ARG N
RUN echo "$N" > /n && head -c 2000000 /big > /part
RUN cat /n /part > /combined && ls -la / > /listing && cat /big /big > /big2
ENV N=$N
RUN sha256sum /combined > /sum
`

// TestCrashRecovery kills 20 builds with SIGKILL at random moments (the
// seed and each delay are logged; MINIBUILD_CRASH_SEED replays a run). After
// each, the same build must succeed, "cache verify" must report nothing
// wrong, and nothing may stay mounted under the store.
func TestCrashRecovery(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	big := make([]byte, 6<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": crashDockerfile})
	if err := os.WriteFile(filepath.Join(ctx, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MINIBUILD_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (MINIBUILD_CRASH_SEED=%d replays it)", seed, seed)
	rng := mrand.New(mrand.NewPCG(seed, 0))

	// How long a whole build takes: the kills land within it. Every other
	// round rebuilds without the cache, to kill the rewriting of blobs
	// that exist already too.
	timed := func(extra ...string) time.Duration {
		began := time.Now()
		build(t, root, ctx, append(extra, "-t", "crash:test")...)
		return time.Since(began)
	}
	full := timed("--no-cache", "--build-arg", "N=calibrate")
	partial := timed("--build-arg", "N=calibrate-again")
	t.Logf("a build takes %v without the cache, %v when the steps from ARG on miss", full, partial)

	const rounds = 20
	for i := range rounds {
		args := []string{"build", "--root", root, "--progress", "plain", "--build-arg", "N=" + strconv.Itoa(i), "-t", "crash:test"}
		span := partial
		if i%2 == 1 {
			args, span = append(args, "--no-cache"), full
		}
		args = append(args, ctx)
		delay := time.Duration(rng.Int64N(int64(span)))
		cmd := exec.Command(bin, args...)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		killed := err != nil
		t.Logf("round %d: SIGKILL after %v (killed: %v); left: %d mounts, %d in tmp, %d half-unpacked layers",
			i, delay.Round(time.Millisecond), killed, len(mountsUnder(t, root)),
			len(listNames(t, filepath.Join(root, "tmp"))), len(listNames(t, filepath.Join(root, "layers", "tmp"))))

		// The next build of the same input succeeds, and then the store
		// is whole and nothing is left mounted.
		md, _ := build(t, root, ctx, "--build-arg", "N="+strconv.Itoa(i), "-t", "crash:test")
		if len(md.Steps) != 7 {
			t.Fatalf("round %d: the follow-up build ran %d steps", i, len(md.Steps))
		}
		if m := mountsUnder(t, root); len(m) > 0 {
			t.Fatalf("round %d: mounts left after the follow-up build: %v", i, m)
		}
		if r := mb(t, "cache", "verify", "--root", root); r.code != 0 || !strings.Contains(r.stdout, "no problems found") {
			t.Fatalf("round %d (SIGKILL after %v, seed %d): cache verify after the follow-up build:\n%s%s\nkilled build's output:\n%s",
				i, delay, seed, r.stdout, r.stderr, stderr.String())
		}
		if left := listNames(t, filepath.Join(root, "tmp")); len(left) > 0 {
			t.Fatalf("round %d: partial writes left under tmp: %v", i, left)
		}
	}
}

// listNames lists a directory; a missing one is empty.
func listNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
