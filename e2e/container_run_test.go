package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestContainerRun: minibuild run runs the image's command (or another) in a
// container over the image's layers with the same executor as RUN, passes
// the exit code on, prints what the container changed with --diff, and
// never changes the image: the writable layer is thrown away.
func TestContainerRun(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
RUN mkdir -p /data/keep /data/old && echo before > /data/file && echo k > /data/keep/k && echo o > /data/old/o \
 && echo 'user:x:1000:1000::/home/user:/bin/sh' >> /etc/passwd && echo 'user:x:1000:' >> /etc/group
WORKDIR /data
ENV GREETING=hello
CMD ["sh", "-c", "echo $GREETING from $(pwd)"]
`})
	md, _ := build(t, root, ctx, "-t", "app:run")
	t.Setenv("FROM_HOST", "host value")

	for _, snap := range []string{"overlay", "native"} {
		t.Run(snap, func(t *testing.T) {
			run := func(args ...string) result {
				t.Helper()
				return mb(t, append([]string{"run", "--root", root, "--snapshotter", snap}, args...)...)
			}
			check := func(r result, code int, stdout, stderr string) {
				t.Helper()
				if r.code != code || r.stdout != stdout || r.stderr != stderr {
					t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr, code, stdout, stderr)
				}
			}
			// The image's CMD, in its WORKDIR, with its ENV.
			check(run("app:run"), 0, "hello from /data\n", "")
			// The command's exit code is minibuild's, with nothing added.
			check(run("app:run", "--", "sh", "-c", "echo out; echo err >&2; exit 42"), 42, "out\n", "err\n")
			check(run("app:run", "sh", "-c", "exit 3"), 3, "", "")

			// --diff: exactly what the container wrote, docker diff style.
			r := run("--rm", "--diff", "app:run", "--", "sh", "-c",
				"echo after > /data/file; echo new > /data/new; rm -r /data/old; rm /data/keep/k; mkdir -p /opt/x && touch /opt/x/y")
			check(r, 0, "C /data\nC /data/file\nC /data/keep\nD /data/keep/k\nA /data/new\nD /data/old\nA /opt\nA /opt/x\nA /opt/x/y\n", "")
			// A directory emptied and refilled (an overlay opaque directory
			// when replaced whole) shows the old children deleted.
			r = run("--diff", "app:run", "--", "sh", "-c", "rm -rf /data/keep && mkdir /data/keep && echo n > /data/keep/n")
			check(r, 0, "C /data\nC /data/keep\nD /data/keep/k\nA /data/keep/n\n", "")
			check(run("--diff", "app:run", "--", "true"), 0, "", "")
			// A failing command still shows its changes, then passes its code on.
			check(run("--diff", "app:run", "--", "sh", "-c", "touch /data/t; exit 5"), 5, "C /data\nA /data/t\n", "")

			// The image is unchanged: same manifest, and a new container
			// sees none of what earlier ones wrote.
			if got := listImages(t, root); got[0].Name != "app:run" || got[0].Digest != md.Image.ManifestDigest {
				t.Errorf("image changed: %+v, built %s", got[0], md.Image.ManifestDigest)
			}
			check(run("app:run", "--", "cat", "/data/file"), 0, "before\n", "")
			check(run("app:run", "--", "ls", "/data", "/data/keep"), 0, "/data:\nfile\nkeep\nold\n\n/data/keep:\nk\n", "")

			// User (from the image's /etc/passwd), working directory, environment.
			check(run("-u", "user", "-w", "/tmp/new", "-e", "GREETING=bye", "-e", "FROM_HOST", "-e", "NOT_ON_HOST",
				"app:run", "--", "sh", "-c", "id; pwd; echo $GREETING $FROM_HOST ${NOT_ON_HOST-unset} $HOME"),
				0, "uid=1000(user) gid=1000(user) groups=1000(user)\n/tmp/new\nbye host value unset /home/user\n", "")
			// --entrypoint replaces the ENTRYPOINT and drops the image's CMD.
			check(run("--entrypoint", "echo", "app:run", "--", "a", "b"), 0, "a b\n", "")
			check(run("--entrypoint", "pwd", "app:run"), 0, "/data\n", "")
			// stdin reaches the command.
			check(mbStdin(t, "three\nlines\nhere\n", "run", "--root", root, "--snapshotter", snap, "app:run", "--", "wc", "-l"), 0, "3\n", "")
			// --network none: only the loopback interface.
			r = run("--network", "none", "app:run", "--", "sh", "-c", "grep : /proc/net/dev | cut -d: -f1 | tr -d ' '")
			check(r, 0, "lo\n", "")

			// minibuild's own failures exit 125 (as docker run), usage errors 2.
			for _, tc := range []struct {
				args []string
				code int
				want string
			}{
				{[]string{"nosuch:image"}, 125, `image "nosuch:image": not found`},
				{[]string{"app:run", "--", "nosuchcommand"}, 125, "nosuchcommand: executable file not found"},
				{[]string{"-u", "nobody", "app:run"}, 125, "nobody"},
				{[]string{"--network", "bridge", "app:run"}, 2, "invalid --network"},
				{[]string{"--entrypoint", "", "busybox:test", "--"}, 2, "no command"},
				{nil, 2, "want an image name"},
			} {
				r := run(tc.args...)
				if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("run %q: exit %d %q, want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
				}
			}
			if m := mountsUnder(t, root); len(m) > 0 {
				t.Errorf("mounts left under the store: %v", m)
			}
			// Each container's snapshot is gone (snapshots/mounts holds the live ones).
			if entries, err := os.ReadDir(root + "/snapshots/mounts"); err != nil || len(entries) > 0 {
				t.Errorf("containers left in snapshots/mounts: %v %v", entries, err)
			}
			mustMB(t, "cache", "verify", "--root", root)
		})
	}
	if r := mustMB(t, "run", "--help"); !strings.Contains(r.stdout, "always removed") || !strings.Contains(r.stdout, "Examples:") {
		t.Errorf("run --help:\n%s", r.stdout)
	}
}
