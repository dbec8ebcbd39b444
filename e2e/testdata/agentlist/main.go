// Command agentlist asks the ssh agent at $SSH_AUTH_SOCK for its keys and
// prints how many it holds and each key's comment: ssh-add -l, for an image
// without OpenSSH (a static binary the ssh mount test copies into busybox).
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("unix", os.Getenv("SSH_AUTH_SOCK"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentlist:", err)
		os.Exit(2)
	}
	defer c.Close()
	// SSH_AGENTC_REQUEST_IDENTITIES (11), framed by its length.
	if _, err := c.Write([]byte{0, 0, 0, 1, 11}); err != nil {
		fail(err)
	}
	var n uint32
	if err := binary.Read(c, binary.BigEndian, &n); err != nil {
		fail(err)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(c, msg); err != nil {
		fail(err)
	}
	if len(msg) < 5 || msg[0] != 12 { // SSH_AGENT_IDENTITIES_ANSWER
		fail(fmt.Errorf("unexpected answer %v", msg[:min(len(msg), 8)]))
	}
	count := binary.BigEndian.Uint32(msg[1:5])
	fmt.Println(count, "keys")
	rest := msg[5:]
	for range count {
		var blob, comment []byte
		blob, rest = field(rest)
		comment, rest = field(rest)
		_ = blob
		fmt.Println(string(comment))
	}
}

// field splits a length-prefixed string off b.
func field(b []byte) ([]byte, []byte) {
	if len(b) < 4 {
		fail(fmt.Errorf("short answer"))
	}
	n := binary.BigEndian.Uint32(b)
	if uint32(len(b)-4) < n {
		fail(fmt.Errorf("short answer"))
	}
	return b[4 : 4+n], b[4+n:]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "agentlist:", err)
	os.Exit(1)
}
