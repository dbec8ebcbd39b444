package tarutil

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// escapeProbe is a file name that must never appear at the host's "/".
const escapeProbe = "tarutil-escape-probe"

// maliciousCase is one adversarial layer and its expected outcome.
type maliciousCase struct {
	name  string
	lower []tEntry                  // applied first, must succeed
	layer []tEntry                  // the layer under test
	raw   func(testing.TB) []byte   // overrides layer when set
	err   string                    // "" for success, else a part of the error
	check func(*testing.T, sandbox) // what the root must look like afterwards
}

func maliciousCases() []maliciousCase {
	hasFile := func(rel, want string) func(*testing.T, sandbox) {
		return func(t *testing.T, s sandbox) {
			t.Helper()
			if got := readFile(t, filepath.Join(s.root, rel)); got != want {
				t.Errorf("%s = %q, want %q", rel, got, want)
			}
		}
	}
	isLink := func(rel string) func(*testing.T, sandbox) {
		return func(t *testing.T, s sandbox) {
			t.Helper()
			if st := lstat(t, filepath.Join(s.root, rel)); st.Mode&0o170000 != 0o120000 {
				t.Errorf("%s has mode %o, want a symlink", rel, st.Mode)
			}
		}
	}
	both := func(fs ...func(*testing.T, sandbox)) func(*testing.T, sandbox) {
		return func(t *testing.T, s sandbox) {
			for _, f := range fs {
				f(t, s)
			}
		}
	}
	mode := func(e tEntry, m int64) tEntry { e.hdr.Mode = m; return e }
	return []maliciousCase{
		{name: "dotdot", layer: []tEntry{reg("../x", "pwn")}, err: `"../x"`},
		{name: "absolute dotdot", layer: []tEntry{reg("/../x", "pwn")}, err: `"/../x"`},
		{name: "inner dotdot", layer: []tEntry{reg("a/../../x", "pwn")}, err: `"a/../../x"`},
		{name: "dotdot to sentinel", layer: []tEntry{reg("a/b/../../../sentinel/file", "pwn")}, err: "sentinel/file"},
		{name: "long pax name escaping",
			layer: []tEntry{reg(strings.Repeat("d/", 60)+strings.Repeat("../", 61)+"x", "pwn")}, err: "leaves the root"},
		{name: "symlink to slash then child",
			layer: []tEntry{symE("foo", "/"), reg("foo/"+escapeProbe, "in")},
			check: both(hasFile(escapeProbe, "in"), isLink("foo"))},
		{name: "symlink three up then child",
			layer: []tEntry{symE("foo", "../../.."), reg("foo/"+escapeProbe, "in")},
			check: hasFile(escapeProbe, "in")},
		{name: "symlink to sibling name stays inside",
			layer: []tEntry{dirE("sentinel/"), symE("foo", "../sentinel"), reg("foo/file", "in")},
			check: hasFile("sentinel/file", "in")},
		{name: "dangling symlink parent",
			layer: []tEntry{symE("foo", "../sentinel"), reg("foo/file", "pwn")}, err: `"foo/file"`},
		{name: "go_up chain",
			layer: []tEntry{symE("go_up", ".."), reg("go_up/go_up/go_up/"+escapeProbe, "in")},
			check: hasFile(escapeProbe, "in")},
		{name: "nested go_up",
			layer: []tEntry{dirE("a/"), symE("a/up", "../.."), reg("a/up/up/x", "in")},
			check: hasFile("up/x", "in")},
		{name: "symlink loop", layer: []tEntry{symE("a", "b"), symE("b", "a"), reg("a/x", "pwn")}, err: `"a/x"`},
		{name: "hardlink dotdot", layer: []tEntry{linkE("h", "../../etc/passwd")}, err: `"h"`},
		{name: "hardlink absolute is inside root", layer: []tEntry{linkE("h", "/etc/passwd")}, err: `"h"`},
		{name: "hardlink absolute inside",
			layer: []tEntry{dirE("etc/"), reg("etc/passwd", "inside"), linkE("h", "/etc/passwd")},
			check: hasFile("h", "inside")},
		{name: "hardlink through symlinked parent",
			layer: []tEntry{symE("lnk", "../sentinel"), linkE("h", "lnk/file")}, err: `"h"`},
		{name: "hardlink through absolute symlinked parent",
			layer: []tEntry{dirE("etc/"), reg("etc/passwd", "inside"), symE("e", "/etc"), linkE("h", "e/passwd")},
			check: hasFile("h", "inside")},
		{name: "hardlink to root", layer: []tEntry{linkE("h", "/")}, err: `"h"`},
		{name: "hardlink to symlink then file over it",
			layer: []tEntry{symE("s", "../sentinel/file"), linkE("h", "s"), mode(reg("h", "pwn"), 0o777)},
			err:   "duplicate"},
		{name: "hardlink to symlink then file over it in next layer",
			lower: []tEntry{symE("s", "../sentinel/file"), linkE("h", "s")},
			layer: []tEntry{mode(reg("h", "new"), 0o777)},
			check: both(hasFile("h", "new"), isLink("s"))},
		{name: "file over symlink",
			lower: []tEntry{symE("f", "../sentinel/file")},
			layer: []tEntry{reg("f", "new")},
			check: hasFile("f", "new")},
		{name: "directory over symlink",
			lower: []tEntry{symE("d", "../sentinel")},
			layer: []tEntry{dirE("d/"), reg("d/file", "new")},
			check: hasFile("d/file", "new")},
		{name: "whiteout through symlink",
			lower: []tEntry{symE("l", "../sentinel")},
			layer: []tEntry{reg("l/.wh.file", "")},
			check: isLink("l")},
		{name: "opaque through dangling symlink",
			lower: []tEntry{symE("l", "../sentinel")},
			layer: []tEntry{reg("l/.wh..wh..opq", "")}, err: "l/.wh..wh..opq"},
		{name: "whiteout climbing", layer: []tEntry{reg("../.wh.sentinel", "")}, err: "../.wh.sentinel"},
		{name: "whiteout dot", layer: []tEntry{reg(".wh..", "")}, err: `".wh.."`},
		{name: "whiteout dotdot", layer: []tEntry{reg(".wh...", "")}, err: `".wh..."`},
		{name: "whiteout dotdot nested", layer: []tEntry{reg("a/.wh...", "")}, err: `"a/.wh..."`},
		{name: "bare whiteout", layer: []tEntry{reg(".wh.", "")}, err: `".wh."`},
		{name: "dot as file", layer: []tEntry{reg(".", "pwn")}, err: `"."`},
		{name: "dot slash as symlink", layer: []tEntry{symE("./", "/")}, err: `"./"`},
		{name: "slash dot as file", layer: []tEntry{reg("/.", "pwn")}, err: `"/."`},
		{name: "hardlink named dot", layer: []tEntry{reg("a", "x"), linkE(".", "a")}, err: `"."`},
		{name: "duplicate file", layer: []tEntry{reg("a", "1"), reg("a", "2")}, err: "duplicate"},
		{name: "duplicate directory spelled twice", layer: []tEntry{dirE("d/"), dirE("./d")}, err: "duplicate"},
		{name: "device climbing",
			layer: []tEntry{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "../null", Mode: 0o666, Devmajor: 1, Devminor: 3}}},
			err:   "../null"},
		{name: "huge pax header", raw: hugePAXTar, err: "reading the first tar header"},
		{name: "pax sparse file", raw: sparsePAXTar, err: "sparse"},
	}
}

// paxRecord encodes one PAX record, whose length counts itself.
func paxRecord(key, value string) string {
	body := key + "=" + value + "\n"
	size := len(body) + 1 // the space after the length
	digits := len(strconv.Itoa(size))
	for len(strconv.Itoa(size+digits)) != digits {
		digits++
	}
	return fmt.Sprintf("%d %s", size+digits, body)
}

// withRawPAX prefixes the tar of entries with a PAX extended header holding
// records verbatim. archive/tar refuses to write oversized or sparse PAX
// records, so the header is a regular one whose type flag is patched to 'x'.
func withRawPAX(t testing.TB, records string, entries ...tEntry) []byte {
	paxHdr := buildTar(t, reg("PaxHeaders/entry", records))
	block := paxHdr[:512]
	block[156] = tar.TypeXHeader
	copy(block[148:156], "        ")
	sum := 0
	for _, b := range block {
		sum += int(b)
	}
	copy(block[148:156], fmt.Sprintf("%06o\x00 ", sum))
	var out bytes.Buffer
	out.Write(paxHdr[:len(paxHdr)-1024]) // without the end-of-archive blocks
	out.Write(buildTar(t, entries...))
	return out.Bytes()
}

// hugePAXTar has a PAX extended header of just over 1 MiB.
func hugePAXTar(t testing.TB) []byte {
	return withRawPAX(t, paxRecord("comment", strings.Repeat("x", 1<<20)), reg("big", "pwn"))
}

// sparsePAXTar has a PAX 1.0 sparse file of 1 TiB holding no data.
func sparsePAXTar(t testing.TB) []byte {
	records := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", "sparse") + paxRecord("GNU.sparse.realsize", "1099511627776")
	sparseMap := "1\n1099511627775\n1\n"
	return withRawPAX(t, records, reg("GNUSparseFile.0/sparse", sparseMap+strings.Repeat("\x00", 512-len(sparseMap))+"z"))
}

func TestApplyMalicious(t *testing.T) {
	requireRoot(t)
	passwdBefore := snapshotTree(t, "/etc/passwd", "")
	for _, tc := range maliciousCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			if tc.lower != nil {
				if _, err := applyTar(t, s.root, buildTar(t, tc.lower...), ApplyOptions{LayerName: "lower"}); err != nil {
					t.Fatalf("applying the lower layer: %v", err)
				}
			}
			before := s.outside(t)
			data := tc.raw
			if data == nil {
				data = func(t testing.TB) []byte { return buildTar(t, tc.layer...) }
			}
			_, err := applyTar(t, s.root, data(t), ApplyOptions{LayerName: "sha256:evil"})
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Apply: %v", err)
			case tc.err != "":
				mustContain(t, err, "sha256:evil", tc.err)
			}
			if d := before.diff(s.outside(t)); len(d) > 0 {
				t.Errorf("outside the root changed:\n%s", strings.Join(d, "\n"))
			}
			if exists("/" + escapeProbe) {
				t.Errorf("/%s was created on the host", escapeProbe)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
	if d := passwdBefore.diff(snapshotTree(t, "/etc/passwd", "")); len(d) > 0 {
		t.Errorf("/etc/passwd changed: %v", d)
	}
}

// TestApplyMaliciousOverlay runs the same layers in overlay mode: whatever
// the outcome, nothing outside the root may change.
func TestApplyMaliciousOverlay(t *testing.T) {
	requireRoot(t)
	for _, tc := range maliciousCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			opts := ApplyOptions{LayerName: "sha256:evil", Whiteouts: WhiteoutOverlay}
			if tc.lower != nil {
				if _, err := applyTar(t, s.root, buildTar(t, tc.lower...), opts); err != nil {
					t.Fatalf("applying the lower layer: %v", err)
				}
			}
			before := s.outside(t)
			data := tc.raw
			if data == nil {
				data = func(t testing.TB) []byte { return buildTar(t, tc.layer...) }
			}
			_, err := applyTar(t, s.root, data(t), opts)
			if tc.err != "" && err == nil {
				t.Errorf("Apply succeeded, want an error containing %q", tc.err)
			}
			if err != nil && !strings.Contains(err.Error(), "sha256:evil") {
				t.Errorf("error %q does not name the layer", err)
			}
			if d := before.diff(s.outside(t)); len(d) > 0 {
				t.Errorf("outside the root changed:\n%s", strings.Join(d, "\n"))
			}
			if exists("/" + escapeProbe) {
				t.Errorf("/%s was created on the host", escapeProbe)
			}
		})
	}
}

func TestApplyUnsafeIsMarked(t *testing.T) {
	s := newSandbox(t)
	_, err := applyTar(t, s.root, buildTar(t, reg("../x", "")), ApplyOptions{NoChown: true})
	if !errors.Is(err, errUnsafe) {
		t.Fatalf("err = %v, want errUnsafe", err)
	}
	mustContain(t, err, "(unnamed)")
}
