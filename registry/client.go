package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// userAgent is sent with every request.
const userAgent = "minibuild"

// Options configures a Client.
type Options struct {
	// Insecure lists registries, as HOST or HOST:PORT, reached over plain
	// HTTP (--insecure-registry). Loopback registries always are, as
	// Docker allows.
	Insecure []string
	// Credentials replaces the Docker config file's credentials; nil reads
	// $DOCKER_CONFIG/config.json, else ~/.docker/config.json, and the
	// credential helpers (credsStore, credHelpers) it names.
	Credentials credentials.Store
	// HTTPClient replaces the transport under authentication; nil uses a
	// client that retries 5xx and 429 answers with backoff.
	HTTPClient *http.Client
}

// Client reaches registries with credentials and retries.
type Client struct {
	creds      credentials.Store
	configPath string // the Docker config file credentials come from, or ""
	insecure   map[string]bool
	auth       *auth.Client
	// origins records, per blob, the repositories (registry/path) this
	// client has seen holding it, for cross-repository mounts on push.
	mu      sync.Mutex
	origins map[digest.Digest]map[Ref]bool
}

// New returns a Client. A missing Docker config file means no credentials;
// an unreadable one is an error.
func New(o Options) (*Client, error) {
	c := &Client{creds: o.Credentials, insecure: map[string]bool{}, origins: map[digest.Digest]map[Ref]bool{}}
	if c.creds == nil {
		ds, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading Docker credentials: %w", err)
		}
		c.creds, c.configPath = ds, ds.ConfigPath()
	}
	for _, h := range o.Insecure {
		c.insecure[strings.ToLower(h)] = true
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = retry.NewClient()
	}
	c.auth = &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {userAgent}},
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(c.creds),
	}
	return c, nil
}

// plainHTTP reports whether registry host[:port] is reached over HTTP.
func (c *Client) plainHTTP(hostport string) bool {
	if isLoopback(hostport) {
		return true
	}
	h := strings.ToLower(hostport)
	if c.insecure[h] {
		return true
	}
	if i := strings.LastIndexByte(h, ':'); i > 0 && !strings.HasSuffix(h, "]") {
		return c.insecure[h[:i]]
	}
	return false
}

// repository returns an oras client for r's repository.
func (c *Client) repository(r Ref) (*remote.Repository, error) {
	repo, err := remote.NewRepository(r.Name())
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", r.Name(), err)
	}
	repo.Client = c.auth
	repo.PlainHTTP = c.plainHTTP(r.Registry)
	return repo, nil
}

// explain turns a registry error into one a user can act on: failed
// authentication names the registry and where credentials come from.
func (c *Client) explain(ctx context.Context, r Ref, err error) error {
	// oras's "failed to perform X on destination" says nothing a user
	// needs: the store or the registry below names the cause.
	var ce *oras.CopyError
	if errors.As(err, &ce) && ce.Err != nil {
		err = ce.Err
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: authentication failed: %s: %w", r.Registry, c.credentialNote(ctx, r.Registry), err)
		case http.StatusForbidden:
			return fmt.Errorf("%s: access to %s denied (%s): %w", r.Registry, r.Repository, c.credentialNote(ctx, r.Registry), err)
		}
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%s: authentication required: %s: %w", r.Registry, c.credentialNote(ctx, r.Registry), err)
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("%s: not found: %w", r, err)
	}
	return err
}

// credentialNote says which credentials were tried for registry.
func (c *Client) credentialNote(ctx context.Context, registry string) string {
	where := "the configured credential store"
	if c.configPath != "" {
		where = c.configPath
	}
	cred, err := c.creds.Get(ctx, credentials.ServerAddressFromRegistry(registry))
	switch {
	case err != nil:
		return fmt.Sprintf("reading credentials from %s: %v", where, err)
	case cred == auth.EmptyCredential:
		return fmt.Sprintf("no credentials for it in %s (run docker login %s, or set DOCKER_CONFIG)", where, registry)
	case cred.Username != "":
		return fmt.Sprintf("the registry refused user %q from %s", cred.Username, where)
	}
	return fmt.Sprintf("the registry refused the token from %s", where)
}

// remember notes that repository r (its tag and digest are ignored) holds
// blob d.
func (c *Client) remember(r Ref, d digest.Digest) {
	repo := Ref{Registry: r.Registry, Repository: r.Repository}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.origins[d] == nil {
		c.origins[d] = map[Ref]bool{}
	}
	c.origins[d][repo] = true
}

// mountSources returns the other repositories of r's registry known to
// hold blob d, sorted, which a push can mount the blob from instead of
// uploading it.
func (c *Client) mountSources(r Ref, d digest.Digest) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for o := range c.origins[d] {
		if o.Registry == r.Registry && o.Repository != r.Repository {
			out = append(out, o.Repository)
		}
	}
	sort.Strings(out)
	return out
}
