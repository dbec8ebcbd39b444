package buildcontext

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFilesUnchanged lists and digests a context of 80 directories of
// 100 small files with a warm stat cache: what a no-change rebuild pays
// per COPY of the whole tree.
func BenchmarkFilesUnchanged(b *testing.B) {
	dir := b.TempDir()
	old := time.Now().Add(-time.Hour)
	for d := range 80 {
		sub := filepath.Join(dir, "src", fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			p := filepath.Join(sub, fmt.Sprintf("f%02d", f))
			if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
				b.Fatal(err)
			}
			if err := os.Chtimes(p, old, old); err != nil {
				b.Fatal(err)
			}
		}
	}
	cache := filepath.Join(b.TempDir(), "sc")
	open := func() *Context {
		c, err := Open(dir, Options{StatCachePath: cache})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	list := func(c *Context) []File {
		files, err := c.Files(Source{Path: "src", IsDir: true})
		if err != nil {
			b.Fatal(err)
		}
		return files
	}
	digests := func(c *Context, files []File) {
		for _, f := range files {
			if f.Mode.IsRegular() {
				if _, err := c.Digest(f); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	c := open() // fill the stat cache
	digests(c, list(c))
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("all", func(b *testing.B) {
		for range b.N {
			c := open()
			digests(c, list(c))
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		for range b.N {
			open().Close()
		}
	})
	c = open()
	defer c.Close()
	b.Run("files", func(b *testing.B) {
		for range b.N {
			list(c)
		}
	})
	files := list(c)
	b.Run("digests", func(b *testing.B) {
		for range b.N {
			digests(c, files)
		}
	})
}
