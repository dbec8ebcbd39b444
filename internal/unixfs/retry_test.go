package unixfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		again     func(error) bool
		errs      []error // what the successive calls return; then success
		wantCalls int
		wantErr   error // nil: success
		spent     bool
	}{
		{name: "success", again: isEINTR, wantCalls: 1},
		{name: "EINTR then success", again: isEINTR, errs: []error{unix.EINTR, unix.EINTR}, wantCalls: 3},
		{name: "EAGAIN is not retried by Retry", again: isEINTR, errs: []error{unix.EAGAIN}, wantCalls: 1, wantErr: unix.EAGAIN},
		{name: "openat2 retries EAGAIN and EINTR", again: isEINTROrEAGAIN, errs: []error{unix.EAGAIN, unix.EINTR, unix.EAGAIN}, wantCalls: 4},
		{name: "other errors pass through", again: isEINTROrEAGAIN, errs: []error{unix.EINTR, unix.ENOENT}, wantCalls: 2, wantErr: unix.ENOENT},
		{name: "bounded", again: isEINTROrEAGAIN, errs: repeat(unix.EAGAIN, 1000), wantCalls: MaxRetries + 1, wantErr: unix.EAGAIN, spent: true},
		{name: "last retry succeeds", again: isEINTR, errs: repeat(unix.EINTR, MaxRetries), wantCalls: MaxRetries + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			fd, spent, err := retry(tt.again, func() (int, error) {
				calls++
				if calls <= len(tt.errs) {
					return -1, tt.errs[calls-1]
				}
				return 7, nil
			})
			if calls != tt.wantCalls || spent != tt.spent || err != tt.wantErr {
				t.Fatalf("retry: %d calls, spent %v, err %v; want %d, %v, %v", calls, spent, err, tt.wantCalls, tt.spent, tt.wantErr)
			}
			if err == nil && fd != 7 {
				t.Fatalf("fd = %d, want 7", fd)
			}
		})
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

func TestRetryErrGivesUp(t *testing.T) {
	calls := 0
	err := RetryErr(func() error { calls++; return unix.EINTR })
	if calls != MaxRetries+1 || !errors.Is(err, unix.EINTR) || !strings.Contains(err.Error(), "gave up after") {
		t.Fatalf("RetryErr: %d calls, %v", calls, err)
	}
}

func TestOpenat2(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("in"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../etc", filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	inRoot := uint64(unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS)
	tests := []struct {
		name    string
		path    string
		resolve uint64
		wantErr error // nil: the file opens and reads "in"
	}{
		{name: "plain", path: "etc/passwd", resolve: inRoot},
		{name: "absolute link stays in the root", path: "abs/passwd", resolve: inRoot},
		{name: "dotdot link stays in the root", path: "up/passwd", resolve: inRoot},
		{name: "missing is the bare errno", path: "etc/shadow", resolve: inRoot, wantErr: unix.ENOENT},
		{name: "no symlinks", path: "abs/passwd", resolve: unix.RESOLVE_NO_SYMLINKS, wantErr: unix.ELOOP},
		{name: "beneath refuses dotdot", path: "../x", resolve: unix.RESOLVE_BENEATH, wantErr: unix.EXDEV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			how := &unix.OpenHow{Flags: unix.O_RDONLY, Resolve: tt.resolve}
			fd, err := Openat2(rootfd, tt.path, how)
			if how.Flags != unix.O_RDONLY {
				t.Errorf("Openat2 changed how.Flags to %#x", how.Flags)
			}
			if tt.wantErr != nil {
				if err != tt.wantErr {
					t.Fatalf("Openat2(%q) = %d, %v; want %v", tt.path, fd, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Openat2(%q): %v", tt.path, err)
			}
			defer unix.Close(fd)
			flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err != nil || flags&unix.FD_CLOEXEC == 0 {
				t.Errorf("descriptor flags %#x, %v: want FD_CLOEXEC", flags, err)
			}
			buf := make([]byte, 8)
			if n, err := unix.Read(fd, buf); err != nil || string(buf[:n]) != "in" {
				t.Errorf("read %q, %v; want the file inside the root", buf[:n], err)
			}
		})
	}
}
