package executor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// maxPasswdSize bounds how much of a rootfs's /etc/passwd is read to find a home directory.
const maxPasswdSize = 4 << 20

// hostsContent is the /etc/hosts a run sees, naming hostname as a loopback name.
func hostsContent(hostname string) []byte {
	return fmt.Appendf(nil, "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", hostname)
}

// resolvConfContent is the /etc/resolv.conf a run sees: the host's with the host
// network, an empty one without a network.
func resolvConfContent(network NetworkMode) ([]byte, error) {
	if network == NetworkNone {
		return nil, nil
	}
	b, err := os.ReadFile("/etc/resolv.conf")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading host resolv.conf: %w", err)
	}
	return b, nil
}

// homeDir finds the home directory of uid in the rootfs's /etc/passwd, or "/" without one.
func homeDir(rootfd int, uid uint32) (string, error) {
	fd, err := unixfs.Openat2(rootfd, "etc/passwd", &unix.OpenHow{
		Flags:   unix.O_RDONLY,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return "/", nil
	}
	if err != nil {
		return "", fmt.Errorf("opening /etc/passwd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "/etc/passwd")
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "/", nil
	}
	want := strconv.FormatUint(uint64(uid), 10)
	sc := bufio.NewScanner(io.LimitReader(f, maxPasswdSize))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == want && fields[5] != "" {
			return fields[5], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading /etc/passwd: %w", err)
	}
	return "/", nil
}

// envWithDefaults copies env and adds PATH and HOME when they are missing.
func envWithDefaults(env []string, home func() (string, error)) ([]string, error) {
	out := make([]string, 0, len(env)+2)
	hasPath, hasHome := false, false
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		hasPath = hasPath || name == "PATH"
		hasHome = hasHome || name == "HOME"
		out = append(out, kv)
	}
	if !hasPath {
		out = append(out, "PATH="+DefaultPath)
	}
	if !hasHome {
		h, err := home()
		if err != nil {
			return nil, err
		}
		out = append(out, "HOME="+h)
	}
	return out, nil
}

// lookupEnv returns the value of name in env, the last one winning like in a shell.
func lookupEnv(env []string, name string) string {
	val := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val = v
		}
	}
	return val
}
