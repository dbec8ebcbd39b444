package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
)

// isRemote reports whether an ADD source is a URL or a git reference.
func isRemote(src string) bool {
	for _, prefix := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(src, prefix) {
			return true
		}
	}
	return false
}

func allRemote(srcs []string) bool {
	for _, s := range srcs {
		if !isRemote(s) {
			return false
		}
	}
	return true
}

// urlSource downloads an ADD URL into the store (as a blob, so it is kept
// by its digest) and makes it a source: a file named after the URL's last
// path component, mode 0600 as Docker gives it, never extracted.
func (b *build) urlSource(ctx context.Context, rawURL, checksum string) ([]copySource, error) {
	u, err := url.Parse(rawURL)
	if err != nil || strings.HasPrefix(rawURL, "git") || strings.HasSuffix(u.Path, ".git") {
		return nil, fmt.Errorf("ADD %s: only http and https URLs of files are supported (no git sources)", rawURL)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		return nil, fmt.Errorf("ADD %s: the URL has no file name to copy to", rawURL)
	}
	d, err := b.download(ctx, rawURL, checksum)
	if err != nil {
		return nil, err
	}
	f := copyFile{
		mode:   0o600,
		open:   func() (io.ReadCloser, error) { return b.tools.Store.OpenBlob(d) },
		digest: func() (digest.Digest, error) { return d, nil },
	}
	return []copySource{{name: name, files: []copyFile{f}}}, nil
}

// download fetches rawURL into the store and returns its digest. With a
// checksum, the content must match it, and a blob already stored under it
// is used without downloading (the download is cached by checksum).
func (b *build) download(ctx context.Context, rawURL, checksum string) (digest.Digest, error) {
	var want digest.Digest
	if checksum != "" {
		want = digest.Digest(checksum)
		if digestcheck.Validate(want) != nil {
			return "", fmt.Errorf("invalid --checksum=%s: want sha256:<64 hex digits>", checksum)
		}
		if b.tools.Store.HasBlob(want) {
			return want, nil
		}
	}
	if b.set.DryRun {
		return "", &unknownError{Reason{Kind: ReasonUnknown, Cause: CauseDownload, Detail: rawURL}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", fmt.Errorf("ADD %s: %w", rawURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("ADD %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ADD %s: the server answered %s", rawURL, resp.Status)
	}
	w, err := b.tools.Store.NewBlobWriter("application/octet-stream")
	if err != nil {
		return "", err
	}
	dg := digest.SHA256.Digester()
	n, err := io.Copy(io.MultiWriter(w, dg.Hash()), resp.Body)
	if err != nil {
		return "", errors.Join(fmt.Errorf("ADD %s: downloading: %w", rawURL, err), w.Cancel())
	}
	got := dg.Digest()
	if want != "" && got != want {
		_ = w.Cancel()
		return "", fmt.Errorf("ADD %s: checksum mismatch: --checksum=%s but the download is %s", rawURL, want, got)
	}
	if _, err := w.Commit(got, n); err != nil {
		return "", fmt.Errorf("ADD %s: storing: %w", rawURL, err)
	}
	return got, nil
}
