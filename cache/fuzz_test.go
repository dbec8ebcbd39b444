package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// keyDecoder reads back the encoding KeyInput.encode writes. That every
// encoding decodes to the input it came from proves the encoding
// injective: no two different inputs share a key but by a sha256
// collision.
type keyDecoder struct {
	b []byte
}

func (d *keyDecoder) raw(want string) error {
	if !bytes.HasPrefix(d.b, append([]byte(want), 0)) {
		return fmt.Errorf("missing %q", want)
	}
	d.b = d.b[len(want)+1:]
	return nil
}

func (d *keyDecoder) u64() (uint64, error) {
	if len(d.b) < 8 {
		return 0, errors.New("short number")
	}
	n := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return n, nil
}

func (d *keyDecoder) bytes() (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)) {
		return "", errors.New("short string")
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s, nil
}

func (d *keyDecoder) label(want string) error {
	got, err := d.bytes()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("label %q, want %q", got, want)
	}
	return nil
}

func (d *keyDecoder) str(label string) (string, error) {
	if err := d.label(label); err != nil {
		return "", err
	}
	return d.bytes()
}

func (d *keyDecoder) num(label string) (uint64, error) {
	if err := d.label(label); err != nil {
		return 0, err
	}
	return d.u64()
}

func (d *keyDecoder) list(label string) ([]string, error) {
	n, err := d.num(label)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)) {
		return nil, errors.New("impossible list length")
	}
	var out []string
	for range n {
		s, err := d.bytes()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeKey parses an encoding back into a KeyInput (nil slices where
// empty), refusing trailing bytes.
func decodeKey(b []byte) (KeyInput, error) {
	d := &keyDecoder{b: b}
	var k KeyInput
	var err error
	if err = d.raw(keyVersion); err != nil {
		return k, err
	}
	if s, err := d.str("parent"); err != nil {
		return k, err
	} else {
		k.Parent = digest.Digest(s)
	}
	if k.Platform, err = d.str("platform"); err != nil {
		return k, err
	}
	if k.Instruction, err = d.str("instruction"); err != nil {
		return k, err
	}
	n, err := d.num("sources")
	if err != nil {
		return k, err
	}
	for range n {
		var s SourceFile
		if s.Path, err = d.str("path"); err != nil {
			return k, err
		}
		mode, err := d.num("mode")
		if err != nil {
			return k, err
		}
		uid, err := d.num("uid")
		if err != nil {
			return k, err
		}
		gid, err := d.num("gid")
		if err != nil {
			return k, err
		}
		s.Mode, s.UID, s.GID = uint32(mode), int(int64(uid)), int(int64(gid))
		dg, err := d.str("digest")
		if err != nil {
			return k, err
		}
		s.Digest = digest.Digest(dg)
		if s.Linkname, err = d.str("linkname"); err != nil {
			return k, err
		}
		k.Sources = append(k.Sources, s)
	}
	if k.Env, err = d.list("env"); err != nil {
		return k, err
	}
	if k.Extra, err = d.list("extra"); err != nil {
		return k, err
	}
	if len(d.b) != 0 {
		return k, fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return k, nil
}

// normalized makes empty slices nil, as Key treats them alike.
func normalized(k KeyInput) KeyInput {
	if len(k.Sources) == 0 {
		k.Sources = nil
	}
	if len(k.Env) == 0 {
		k.Env = nil
	}
	if len(k.Extra) == 0 {
		k.Extra = nil
	}
	return k
}

// fuzzInput builds a KeyInput from fuzz values: sources, env and extra are
// split out of strings, so the fuzzer moves bytes across items and fields.
func fuzzInput(parent, platform, instruction, sources, env, extra string, mode uint32, uid, gid int) KeyInput {
	k := KeyInput{Parent: digest.Digest(parent), Platform: platform, Instruction: instruction}
	if sources != "" {
		for i, s := range strings.Split(sources, "\x00") {
			path, rest, _ := strings.Cut(s, "|")
			dg, link, _ := strings.Cut(rest, "|")
			k.Sources = append(k.Sources, SourceFile{Path: path, Mode: mode + uint32(i), UID: uid, GID: gid - i, Digest: digest.Digest(dg), Linkname: link})
		}
	}
	if env != "" {
		k.Env = strings.Split(env, "\n")
	}
	if extra != "" {
		k.Extra = strings.Split(extra, "\n")
	}
	return k
}

// FuzzKey checks the key encoder: every encoding decodes back to its
// input (so the encoding is injective), Key is the sha256 of it and
// deterministic, and two inputs that differ get different keys.
func FuzzKey(f *testing.F) {
	f.Add("sha256:"+strings.Repeat("a", 64), "linux/amd64", "COPY a /b", "a|sha256:x|\x00b||a", "A=1\nB=2", "shell=/bin/sh -c", uint32(0o100644), 0, 0,
		"", "linux/amd64", "COPY a /b", "a|sha256:x|", "A=1", "B=2\nshell=/bin/sh -c", uint32(0o100644), 0, 0)
	f.Add("", "a", "bc", "", "", "", uint32(0), -1, 1, "", "ab", "c", "", "", "", uint32(0), 1, -1)
	f.Fuzz(func(t *testing.T, parent, platform, instruction, sources, env, extra string, mode uint32, uid, gid int,
		parent2, platform2, instruction2, sources2, env2, extra2 string, mode2 uint32, uid2, gid2 int) {
		a := fuzzInput(parent, platform, instruction, sources, env, extra, mode, uid, gid)
		b := fuzzInput(parent2, platform2, instruction2, sources2, env2, extra2, mode2, uid2, gid2)
		for _, k := range []KeyInput{a, b} {
			var buf bytes.Buffer
			k.encode(&buf)
			back, err := decodeKey(buf.Bytes())
			if err != nil {
				t.Fatalf("decoding the encoding of %+v: %v", k, err)
			}
			if !reflect.DeepEqual(back, normalized(k)) {
				t.Fatalf("encoding is not injective: %+v decodes to %+v", k, back)
			}
			key := k.Key()
			if key != digest.NewDigestFromBytes(digest.SHA256, sha256Sum(buf.Bytes())) || key != k.Key() {
				t.Fatalf("Key(%+v) = %s is not the sha256 of its encoding, or not deterministic", k, key)
			}
			if err := key.Validate(); err != nil {
				t.Fatalf("Key is not a valid digest: %v", err)
			}
		}
		if same := reflect.DeepEqual(normalized(a), normalized(b)); same != (a.Key() == b.Key()) {
			t.Fatalf("inputs equal: %v, keys equal: %v\n a=%+v\n b=%+v", same, !same, a, b)
		}
	})
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
