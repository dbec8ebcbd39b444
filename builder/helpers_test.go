package builder

import (
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

type digestT = digest.Digest

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func sixtyFour(c string) string { return strings.Repeat(c, 64) }
