package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// volumeApp builds an image whose /data holds a seed owned by 1000:1001,
// into root, and returns its name.
func volumeApp(t *testing.T, root string) string {
	t.Helper()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
RUN mkdir -p /data/sub && echo seed > /data/seed && echo deep > /data/sub/deep \
 && chown -R 1000:1001 /data && chmod 750 /data && chmod 600 /data/seed
`})
	build(t, root, ctx, "-t", "app:vol")
	return "app:vol"
}

// check fails unless r is the exit code and output wanted.
func checkRun(t *testing.T, r result, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || r.stdout != stdout || r.stderr != stderr {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr, code, stdout, stderr)
	}
}

// TestContainerVolumes: a named volume outlives its containers (what the
// writable layer does not), a new one is filled with the image's content
// at its target, an existing one is used as it is, ro is read-only, and
// --diff leaves out what went into a volume.
func TestContainerVolumes(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	img := volumeApp(t, root)
	for _, snap := range []string{"overlay", "native"} {
		t.Run(snap, func(t *testing.T) {
			run := func(args ...string) result {
				t.Helper()
				return mb(t, append([]string{"run", "--root", root, "--snapshotter", snap}, args...)...)
			}
			data, seeded, empty := "data-"+snap, "seeded-"+snap, "empty-"+snap
			// Written to a volume: there at the next run. Written to /: gone.
			checkRun(t, run("-v", data+":/vol", img, "--", "sh", "-c", "echo hi > /vol/f; echo gone > /f"), 0, "", "")
			checkRun(t, run("-v", data+":/vol", img, "--", "cat", "/vol/f"), 0, "hi\n", "")
			checkRun(t, run("-v", data+":/vol", img, "--", "sh", "-c", "cat /f 2>&1 || true"), 0, "cat: can't open '/f': No such file or directory\n", "")
			// Elsewhere in the same container: the volume is where it is mounted.
			checkRun(t, run("-v", data+":/elsewhere/deep", img, "--", "cat", "/elsewhere/deep/f"), 0, "hi\n", "")

			// A new volume on /data: the image's content, owners and modes.
			stat := "stat -c '%n %u:%g %a' /data /data/seed /data/sub/deep"
			want := "/data 1000:1001 750\n/data/seed 1000:1001 600\n/data/sub/deep 1000:1001 644\n"
			checkRun(t, run("-v", seeded+":/data", img, "--", "sh", "-c", stat), 0, want, "")
			// Existing, it is used as it is: changes stay, the seed is not copied again.
			checkRun(t, run("-v", seeded+":/data", img, "--", "sh", "-c", "rm /data/seed; echo mine > /data/mine"), 0, "", "")
			checkRun(t, run("-v", seeded+":/data", img, "--", "ls", "/data"), 0, "mine\nsub\n", "")
			// The image itself is unchanged.
			checkRun(t, run(img, "--", "ls", "/data"), 0, "seed\nsub\n", "")
			// nocopy keeps a new volume empty.
			checkRun(t, run("-v", empty+":/data:nocopy", img, "--", "ls", "-A", "/data"), 0, "", "")

			// Read-only: writing fails, reading works.
			r := run("-v", data+":/vol:ro", img, "--", "sh", "-c", "cat /vol/f; echo x > /vol/f")
			if r.code == 0 || r.stdout != "hi\n" || !strings.Contains(r.stderr, "Read-only file system") {
				t.Errorf("write to a ro volume: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			checkRun(t, run("--mount", "type=volume,source="+data+",target=/vol,readonly", img, "--", "cat", "/vol/f"), 0, "hi\n", "")

			// --diff: only the writable layer's changes, whether the
			// target is in the image (/data) or not (/new/vol).
			r = run("--diff", "-v", seeded+":/data", "-v", data+":/new/vol", img, "--", "sh", "-c",
				"echo 2 > /data/two; rm -r /data/sub; echo n > /new/vol/n; echo t > /t")
			checkRun(t, r, 0, "A /t\n", "")
			checkRun(t, run("-v", data+":/vol", img, "--", "cat", "/vol/n"), 0, "n\n", "")

			if m := mountsUnder(t, root); len(m) > 0 {
				t.Errorf("mounts left under the store: %v", m)
			}
		})
	}
	mustMB(t, "cache", "verify", "--root", root)
}

// TestContainerBinds: a host directory bound read-write gets what the
// container writes; bound read-only it refuses writes; a missing host
// path and bad -v values fail with errors that name them.
func TestContainerBinds(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	host := t.TempDir()
	writeTree(t, host, map[string]string{"in": "from the host\n"})
	run := func(args ...string) result {
		t.Helper()
		return mb(t, append([]string{"run", "--root", root}, args...)...)
	}
	checkRun(t, run("-v", host+":/mnt", "busybox:test", "--", "sh", "-c", "cat /mnt/in; echo from the container > /mnt/out"), 0, "from the host\n", "")
	if b, err := os.ReadFile(filepath.Join(host, "out")); err != nil || string(b) != "from the container\n" {
		t.Errorf("host file after a rw bind: %q, %v", b, err)
	}
	checkRun(t, run("-v", host+":/mnt:rw", "--diff", "busybox:test", "--", "rm", "/mnt/out"), 0, "", "")
	r := run("-v", host+":/mnt:ro", "busybox:test", "--", "sh", "-c", "cat /mnt/in; touch /mnt/new")
	if r.code == 0 || r.stdout != "from the host\n" || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("write to a ro bind: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(host, "new")); err == nil {
		t.Error("a ro bind let the container create a host file")
	}
	// A file can be bound too.
	checkRun(t, run("--mount", "type=bind,src="+host+"/in,dst=/etc/motd,ro", "busybox:test", "--", "cat", "/etc/motd"), 0, "from the host\n", "")

	missing := filepath.Join(host, "nosuch")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-v", missing + ":/mnt"}, 125, "bind source path does not exist: " + missing},
		{[]string{"-v", "./rel:/mnt"}, 2, `"./rel" is neither a volume name`},
		{[]string{"-v", "data:rel"}, 2, `the target "rel" is not an absolute path`},
		{[]string{"-v", "data:/"}, 2, `the target cannot be "/"`},
		{[]string{"-v", "data:/mnt:rx"}, 2, `unknown option "rx"`},
		{[]string{"-v", "data:/mnt", "-v", host + ":/mnt"}, 2, "two mounts on /mnt"},
	} {
		r := run(append(tc.args, "busybox:test", "--", "true")...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("run %q: exit %d %q, want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	// None of the failed runs left a volume behind.
	checkRun(t, mb(t, "volume", "ls", "-q", "--root", root), 0, "", "")
}

// TestVolumeCommand: volume ls, inspect, rm and prune; a volume in use by
// a running container is neither removed nor pruned.
func TestVolumeCommand(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	vol := func(args ...string) result {
		t.Helper()
		return mb(t, append([]string{"volume", "--root", root}, args...)...)
	}
	mustMB(t, "run", "--root", root, "-v", "data:/data", "busybox:test", "--", "sh", "-c", "head -c 100000 /dev/zero > /data/big")
	checkRun(t, vol("create", "spare"), 0, "spare\n", "")
	checkRun(t, vol("create", "spare"), 0, "spare\n", "") // exists: kept

	ls := vol("ls")
	lines := strings.Split(strings.TrimSpace(ls.stdout), "\n")
	if ls.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "data ") ||
		!strings.Contains(lines[1], "KiB") || !strings.HasPrefix(lines[2], "spare ") || !strings.HasSuffix(lines[2], "-") {
		t.Errorf("volume ls:\n%s%s", ls.stdout, ls.stderr)
	}
	var rows []struct {
		Name       string `json:"name"`
		Size       int64  `json:"size"`
		Mountpoint string `json:"mountpoint"`
		LastUsedAt string `json:"lastUsedAt"`
		InUse      bool   `json:"inUse"`
	}
	if err := json.Unmarshal([]byte(vol("ls", "--format", "json").stdout), &rows); err != nil || len(rows) != 2 ||
		rows[0].Name != "data" || rows[0].Size < 100000 || rows[0].LastUsedAt == "" || rows[1].LastUsedAt != "" {
		t.Errorf("volume ls --format json: %+v %v", rows, err)
	}
	checkRun(t, vol("ls", "-q"), 0, "data\nspare\n", "")

	// A container holds data while it runs: it waits for a file the test
	// puts into the volume from the host.
	if err := json.Unmarshal([]byte(vol("inspect", "data").stdout), &rows); err != nil || len(rows) != 1 || rows[0].InUse {
		t.Fatalf("volume inspect: %+v %v", rows, err)
	}
	mountpoint := rows[0].Mountpoint
	cmd := exec.Command(bin, "run", "--root", root, "-v", "data:/data", "busybox:test", "--", "sh", "-c",
		"touch /data/ready; while [ ! -e /data/go ]; do sleep 0.05; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(mountpoint, "ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container never started")
		}
	}
	if err := json.Unmarshal([]byte(vol("inspect", "data").stdout), &rows); err != nil || !rows[0].InUse {
		t.Errorf("volume inspect of a volume in use: %+v %v", rows, err)
	}
	r := vol("rm", "data")
	if r.code != 1 || !strings.Contains(r.stderr, "volume rm: volume data: in use by a running container") {
		t.Errorf("volume rm of a volume in use: exit %d %q", r.code, r.stderr)
	}
	r = vol("prune")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Deleted: spare (") || !strings.Contains(r.stdout, "1 volume removed; kept 1 volume in use: data\n") {
		t.Errorf("volume prune with data in use: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(mountpoint, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the container: %v", err)
	}

	r = vol("rm", "data", "nosuch")
	if r.code != 1 || !strings.HasPrefix(r.stdout, "Deleted: data (") || !strings.Contains(r.stderr, "volume nosuch: no such volume") {
		t.Errorf("volume rm data nosuch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(mountpoint); !os.IsNotExist(err) {
		t.Errorf("the removed volume's folder: %v", err)
	}
	mustMB(t, "run", "--root", root, "-v", "last:/data", "busybox:test", "--", "true")
	r = vol("prune") // the size of an empty folder depends on the file system
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Deleted: last (") || !strings.HasSuffix(r.stdout, ": 1 volume removed\n") {
		t.Errorf("volume prune: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkRun(t, vol("ls", "-q"), 0, "", "")
	checkRun(t, vol("prune", "-q"), 0, "freed 0 B: 0 volumes removed\n", "")
}

// TestContainerVolumesRunc: runc gets the same mounts as the built-in
// executor: a volume kept between runs, read-only when asked.
func TestContainerVolumesRunc(t *testing.T) {
	requireRoot(t)
	requireTool(t, "runc")
	root := t.TempDir()
	img := volumeApp(t, root)
	run := func(args ...string) result {
		t.Helper()
		return mb(t, append([]string{"run", "--root", root, "--runtime", "runc"}, args...)...)
	}
	checkRun(t, run("-v", "data:/data", img, "--", "sh", "-c", "cat /data/seed; echo hi > /data/f"), 0, "seed\n", "")
	r := run("-v", "data:/data:ro", img, "--", "sh", "-c", "cat /data/f; echo x > /data/f")
	if r.code == 0 || r.stdout != "hi\n" || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("write to a ro volume under runc: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
