package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/testregistry"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// TestPushPull: a push sends every blob once, a second push none; a pull
// downloads every blob into an empty store and, repeated, none.
func TestPushPull(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	c := newTestClient(t, Options{})
	src := openStore(t)
	img := writeImage(t, src, "amd64", []string{"a", "b"}, map[string]string{"a": "one", "b": "two"})
	name := reg + "/test/app:v1"

	var rec recorder
	pushed, err := c.Push(ctx, src, img.manifest, name, rec.fn())
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Digest != img.manifest.Digest {
		t.Fatalf("pushed %s, want %s", pushed.Digest, img.manifest.Digest)
	}
	if rec.count("layer pushed") != 2 || rec.count("config pushed") != 1 {
		t.Errorf("first push: %s", &rec)
	}
	rec = recorder{}
	if _, err := c.Push(ctx, src, img.manifest, reg+"/test/app:v2", rec.fn()); err != nil {
		t.Fatal(err)
	}
	if rec.count("layer pushed") != 0 || rec.count("config pushed") != 0 {
		t.Errorf("pushing the same image again sent blobs: %s", &rec)
	}
	// An image sharing layer "a" sends only its new layer and config.
	img2 := writeImage(t, src, "amd64", []string{"a", "c"}, map[string]string{"a": "one", "c": "three"})
	rec = recorder{}
	if _, err := c.Push(ctx, src, img2.manifest, reg+"/test/app:v3", rec.fn()); err != nil {
		t.Fatal(err)
	}
	if rec.count("layer pushed") != 1 || rec.count("layer already exists") != 1 || rec.count("config pushed") != 1 {
		t.Errorf("push of an image sharing a layer: %s", &rec)
	}

	dst := openStore(t)
	rec = recorder{}
	got, err := c.Pull(ctx, dst, name, ocispec.Platform{OS: "linux", Architecture: "amd64"}, rec.fn())
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != img.manifest.Digest || got.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("pulled %+v, want %s", got, img.manifest.Digest)
	}
	if rec.count("layer downloaded") != 2 {
		t.Errorf("first pull: %s", &rec)
	}
	if _, _, err := dst.Manifest(got); err != nil {
		t.Errorf("pulled manifest unreadable: %v", err)
	}
	for _, l := range img.layers {
		if !dst.HasBlob(l.Digest) {
			t.Errorf("layer %s not pulled", l.Digest)
		}
	}
	rec = recorder{}
	if _, err := c.Pull(ctx, dst, reg+"/test/app@"+img.manifest.Digest.String(), ocispec.Platform{OS: "linux", Architecture: "amd64"}, rec.fn()); err != nil {
		t.Fatal(err)
	}
	if rec.count("layer downloaded") != 0 || rec.count("layer already exists") != 2 {
		t.Errorf("pull by digest into a store that has the layers: %s", &rec)
	}

	if _, err := c.Pull(ctx, dst, reg+"/test/app:missing", ocispec.Platform{OS: "linux", Architecture: "amd64"}, nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("pull of a missing tag: %v", err)
	}
}

// TestPullIndex: an image index is resolved for the platform asked for.
func TestPullIndex(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	c := newTestClient(t, Options{})
	src := openStore(t)
	amd := writeImage(t, src, "amd64", []string{"a"}, map[string]string{"a": "amd64"})
	arm := writeImage(t, src, "arm64", []string{"a"}, map[string]string{"a": "arm64"})
	amd.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{amd.manifest, arm.manifest}}
	idxDesc, err := src.WriteJSON(ocispec.MediaTypeImageIndex, idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, src, idxDesc, reg+"/multi:1", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		platform ocispec.Platform
		want     ocispec.Descriptor
		err      string
	}{
		{ocispec.Platform{OS: "linux", Architecture: "amd64"}, amd.manifest, ""},
		{ocispec.Platform{OS: "linux", Architecture: "arm64"}, arm.manifest, ""},
		{ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, arm.manifest, ""},
		{ocispec.Platform{OS: "linux", Architecture: "s390x"}, ocispec.Descriptor{}, "no manifest for linux/s390x in the index (it has linux/amd64, linux/arm64/v8)"},
	}
	for _, tt := range tests {
		t.Run(tt.platform.Architecture+tt.platform.Variant, func(t *testing.T) {
			dst := openStore(t)
			got, err := c.Pull(ctx, dst, reg+"/multi:1", tt.platform, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest != tt.want.Digest {
				t.Errorf("pulled %s, want %s", got.Digest, tt.want.Digest)
			}
		})
	}
}

// TestAuth: basic auth with credentials from the credential store; none,
// or wrong ones, fail with an error naming the registry and the cause.
func TestAuth(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, testregistry.Htpasswd(t, "alice", "s3cret"))
	src := openStore(t)
	img := writeImage(t, src, "amd64", []string{"a"}, map[string]string{"a": "private"})
	tests := []struct {
		name string
		cred *auth.Credential
		want string
	}{
		{"none", nil, "no credentials for it"},
		{"wrong", &auth.Credential{Username: "alice", Password: "wrong"}, `refused user "alice"`},
		{"right", &auth.Credential{Username: "alice", Password: "s3cret"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := credentials.NewMemoryStore()
			if tt.cred != nil {
				if err := creds.Put(ctx, reg, *tt.cred); err != nil {
					t.Fatal(err)
				}
			}
			c := newTestClient(t, Options{Credentials: creds})
			_, err := c.Push(ctx, src, img.manifest, reg+"/private/app:1", nil)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Pull(ctx, openStore(t), reg+"/private/app:1", ocispec.Platform{OS: "linux", Architecture: "amd64"}, nil); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "authentication") || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), reg) {
				t.Errorf("push error %v, want one about authentication at %s saying %q", err, reg, tt.want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
		})
	}
}

// TestInsecure: loopback registries and --insecure-registry hosts use
// plain HTTP, others HTTPS.
func TestInsecure(t *testing.T) {
	c := newTestClient(t, Options{Insecure: []string{"reg.example:5000", "plain.example"}})
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:1": true, "reg.example:5000": true, "reg.example": false,
		"plain.example": true, "plain.example:443": true, "docker.io": false,
	} {
		if got := c.plainHTTP(host); got != want {
			t.Errorf("plainHTTP(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestMountOnPush: blobs this client pulled from one repository are
// mounted, not uploaded, when pushed to another of the same registry.
func TestMountOnPush(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	src := openStore(t)
	img := writeImage(t, src, "amd64", []string{"a", "b"}, map[string]string{"a": "one", "b": "two"})
	if _, err := newTestClient(t, Options{}).Push(ctx, src, img.manifest, reg+"/base/img:1", nil); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, Options{})
	dst := openStore(t)
	if _, err := c.Pull(ctx, dst, reg+"/base/img:1", ocispec.Platform{OS: "linux", Architecture: "amd64"}, nil); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	if _, err := c.Push(ctx, dst, img.manifest, reg+"/other/app:1", rec.fn()); err != nil {
		t.Fatal(err)
	}
	if rec.count("layer mounted") != 2 || rec.count("layer pushed") != 0 {
		t.Errorf("push to another repository: %s, want both layers mounted", &rec)
	}
}
