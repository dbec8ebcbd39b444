package userns

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the test binary started as an ordinary user by the
// tests in reexec_test.go: testModeEnv makes TestMain call Reexec (with
// the files and helpers the others name) instead of running the tests.
const (
	testModeEnv    = "USERNS_TEST_MODE" // "report", "sleep" to wait for a signal, or "limit"
	testSubUIDEnv  = "USERNS_TEST_SUBUID"
	testSubGIDEnv  = "USERNS_TEST_SUBGID"
	testHelpersEnv = "USERNS_TEST_HELPERS"
	testExitEnv    = "USERNS_TEST_EXIT"
	testDelayEnv   = "USERNS_TEST_DELAY" // how long the child sleeps before it calls Reexec
	testUIDEnv     = "USERNS_TEST_UID"   // the user "limit" becomes
	testGIDEnv     = "USERNS_TEST_GID"
)

func TestMain(m *testing.M) {
	switch mode := os.Getenv(testModeEnv); mode {
	case "":
	case "limit":
		os.Exit(noUserNS())
	default:
		os.Exit(testChild(mode))
	}
	os.Exit(m.Run())
}

// testChild calls Reexec and, once inside, prints what the namespace
// looks like and exits with the code testExitEnv asks for.
func testChild(mode string) int {
	if d, err := time.ParseDuration(os.Getenv(testDelayEnv)); err == nil && os.Getenv(MarkerEnv) != "" {
		time.Sleep(d) // a slow start: the maps are written before Reexec runs
	}
	var opts []Option
	if f := os.Getenv(testSubUIDEnv); f != "" {
		opts = append(opts, WithSubIDFiles(f, os.Getenv(testSubGIDEnv)))
	}
	if h := os.Getenv(testHelpersEnv); h != "" {
		opts = append(opts, WithHelpers(h, h))
	}
	if handled, code, err := Reexec(opts...); handled {
		if err != nil {
			fmt.Fprintln(os.Stderr, "minibuild:", err)
		}
		return code
	}
	uidMap, _ := os.ReadFile("/proc/self/uid_map")
	gidMap, _ := os.ReadFile("/proc/self/gid_map")
	fmt.Printf("pid=%d\n", os.Getpid())
	fmt.Printf("euid=%d\nuid_map=%s\ngid_map=%s\ncapeff=%s\nhome=%s\nmarker=%s\n", os.Geteuid(),
		oneLine(uidMap), oneLine(gidMap), statusField("CapEff"), os.Getenv("HOME"), os.Getenv(MarkerEnv))
	if mode == "sleep" {
		time.Sleep(time.Minute)
	}
	code, _ := strconv.Atoi(os.Getenv(testExitEnv))
	return code
}

// oneLine is a /proc ID map with its lines joined by "," and its spaces squeezed.
func oneLine(b []byte) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, ",")
}

// statusField is a field of /proc/self/status.
func statusField(name string) string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// noUserNS runs as root of a user namespace that maps every ID: it
// forbids user namespaces below it (user.max_user_namespaces=0 is the
// namespace's own) and becomes the user testUIDEnv names, in "report" mode.
func noUserNS() int {
	if err := writeFile("/proc/sys/user/max_user_namespaces", "0\n"); err != nil {
		fmt.Fprintln(os.Stderr, "limit:", err)
		return 100
	}
	uid, _ := strconv.Atoi(os.Getenv(testUIDEnv))
	gid, _ := strconv.Atoi(os.Getenv(testGIDEnv))
	if err := syscall.Setgroups(nil); err != nil {
		fmt.Fprintln(os.Stderr, "limit:", err)
		return 100
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		fmt.Fprintln(os.Stderr, "limit:", err)
		return 100
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		fmt.Fprintln(os.Stderr, "limit:", err)
		return 100
	}
	err := syscall.Exec("/proc/self/exe", os.Args, setEnv(os.Environ(), testModeEnv, "report"))
	fmt.Fprintln(os.Stderr, "limit:", err)
	return 100
}

// writeFile writes s to the existing file at path.
func writeFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
