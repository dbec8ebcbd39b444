package binenc

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func sample() []byte {
	e := NewEncoder("test.v1")
	e.Uvarint(3)
	e.String("a")
	e.Varint(-5)
	e.String(strings.Repeat("\x00\n\t", 100))
	e.Uvarint(math.MaxUint64)
	e.Varint(math.MinInt64)
	e.String("")
	return e.Seal()
}

func TestRoundTrip(t *testing.T) {
	d, err := NewDecoder(sample(), "test.v1")
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Count(1); n != 3 {
		t.Fatalf("Count = %d", n)
	}
	if s := d.String(); s != "a" {
		t.Fatalf("String = %q", s)
	}
	if v := d.Varint(); v != -5 {
		t.Fatalf("Varint = %d", v)
	}
	if s := d.String(); s != strings.Repeat("\x00\n\t", 100) {
		t.Fatalf("String = %q", s)
	}
	if v := d.Uvarint(); v != math.MaxUint64 {
		t.Fatalf("Uvarint = %d", v)
	}
	if v := d.Varint(); v != math.MinInt64 {
		t.Fatalf("Varint = %d", v)
	}
	if s := d.String(); s != "" {
		t.Fatalf("String = %q", s)
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestRejects(t *testing.T) {
	good := sample()
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 1
		return b
	}
	reseal := func(body string) []byte {
		e := &Encoder{buf: []byte(body)}
		return e.Seal()
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "0 bytes"},
		{"truncated", good[:len(good)-1], "checksum"},
		{"flipped body", flip(10), "checksum"},
		{"flipped seal", flip(len(good) - 1), "checksum"},
		{"other magic", func() []byte { return NewEncoder("test.v2").Seal() }(), "format"},
		{"no magic", reseal(""), "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecoder(tt.data, "test.v1")
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewDecoder = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
	// Sealed but inconsistent contents: the errors stick and Err tells.
	decodeErr := func(build func(e *Encoder), read func(d *Decoder)) error {
		e := NewEncoder("m")
		build(e)
		d, err := NewDecoder(e.Seal(), "m")
		if err != nil {
			t.Fatal(err)
		}
		read(d)
		return d.Err()
	}
	inner := []struct {
		name  string
		build func(e *Encoder)
		read  func(d *Decoder)
		want  string
	}{
		{"string longer than the rest", func(e *Encoder) { e.Uvarint(50); e.buf = append(e.buf, "ab"...) },
			func(d *Decoder) { _ = d.String() }, "string of 50 bytes"},
		{"huge count", func(e *Encoder) { e.Uvarint(1 << 40) },
			func(d *Decoder) { d.Count(8) }, "items"},
		{"read past the end", func(e *Encoder) {}, func(d *Decoder) { d.Uvarint() }, "bad integer"},
		{"trailing bytes", func(e *Encoder) { e.Uvarint(1); e.Uvarint(2) },
			func(d *Decoder) { d.Uvarint() }, "trailing"},
		{"error sticks", func(e *Encoder) { e.Uvarint(99) },
			func(d *Decoder) { _ = d.String(); d.Uvarint() }, "string of 99 bytes"},
	}
	for _, tt := range inner {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeErr(tt.build, tt.read)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
}

func TestUvarintMatchesEncodingBinary(t *testing.T) {
	inputs := [][]byte{
		{}, {0x80}, {0xff, 0xff}, // incomplete
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, // overflow
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // max
	}
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 32, math.MaxInt64, math.MaxUint64} {
		inputs = append(inputs, binary.AppendUvarint(nil, v), append(binary.AppendUvarint(nil, v), 7))
	}
	for _, in := range inputs {
		wv, wn := binary.Uvarint(in)
		gv, gn := uvarint(string(in))
		if (wn > 0) != (gn > 0) || wn > 0 && (wv != gv || wn != gn) {
			t.Errorf("uvarint(%x) = %d, %d; encoding/binary says %d, %d", in, gv, gn, wv, wn)
		}
	}
}
