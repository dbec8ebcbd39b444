package tarutil_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/minibuild/minibuild/tarutil"
)

// ExampleWriteLayer writes a two-entry layer and applies it to a directory.
func ExampleWriteLayer() {
	hello := "hello\n"
	entries := []tarutil.Entry{
		{Name: "app/hello.txt", Type: tar.TypeReg, Mode: 0o644, Size: int64(len(hello)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(hello)), nil }},
		{Name: "app", Type: tar.TypeDir, Mode: 0o755},
	}
	var blob bytes.Buffer
	layer, err := tarutil.WriteLayer(&blob, entries, tarutil.LayerOptions{
		Compression: tarutil.Zstd,
		Epoch:       time.Unix(1_700_000_000, 0),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(layer.MediaType, layer.UncompressedSize)

	root, err := os.MkdirTemp("", "rootfs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	tarStream, err := tarutil.Decompress(&blob)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tarStream.Close()
	n, err := tarutil.Apply(context.Background(), root, tarStream, tarutil.ApplyOptions{
		LayerName: layer.Digest.String(),
		NoChown:   os.Geteuid() != 0,
	})
	fmt.Println(n, err)
	// Output:
	// application/vnd.oci.image.layer.v1.tar+zstd 2560
	// 6 <nil>
}
