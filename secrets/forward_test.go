package secrets

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestForward relays a request through the forwarded socket to an echo
// "agent", with the socket's mode as asked.
func TestForward(t *testing.T) {
	dir := t.TempDir()
	agentPath := filepath.Join(dir, "agent")
	l, err := net.Listen("unix", agentPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("agent says " + line))
			}()
		}
	}()
	s, err := Load(nil, []SSHSource{{ID: "default", Socket: agentPath}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fwd := filepath.Join(dir, "fwd")
	stop, err := s.Forward("default", fwd, os.Getuid(), os.Getgid(), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(fwd)
	if err != nil || st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("forwarded socket: %v, %v", st.Mode(), err)
	}
	for range 2 {
		c, err := net.Dial("unix", fwd)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hello\n"))
		got, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if got != "agent says hello\n" {
			t.Errorf("reply = %q", got)
		}
	}
	// A connection still open when the step ends is closed by stop.
	open, err := net.Dial("unix", fwd)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fwd); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, err := s.Forward("gh", filepath.Join(dir, "x"), 0, 0, 0o600); err == nil {
		t.Error("Forward of an unknown id succeeded")
	}
}
