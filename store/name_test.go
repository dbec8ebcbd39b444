package store

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"app", "app:latest"},
		{"app:dev", "app:dev"},
		{"x/app", "x/app:latest"},
		{"my-org/my_app.v2", "my-org/my_app.v2:latest"},
		{"a__b", "a__b:latest"},
		{"a--b", "a--b:latest"},
		{"localhost:5000/x/app:dev", "localhost:5000/x/app:dev"},
		{"localhost/app", "localhost/app:latest"},
		{"localhost:5000", "localhost:5000"},
		{"registry.example.com/team/app:1.2.3", "registry.example.com/team/app:1.2.3"},
		{"Registry.Example.com/app", "Registry.Example.com/app:latest"},
		{"docker.io/library/app", "docker.io/library/app:latest"},
		{"[::1]:5000/app:v1", "[::1]:5000/app:v1"},
		{"app:" + strings.Repeat("t", 128), "app:" + strings.Repeat("t", 128)},
		{"app:_tag", "app:_tag"},
		{"app:V1.0-rc", "app:V1.0-rc"},
		{"", ""},
		{"App", ""},
		{"app/Sub", ""},
		{"app:", ""},
		{"app:-tag", ""},
		{"app:.tag", ""},
		{"app:" + strings.Repeat("t", 129), ""},
		{"app:t/ag", ""},
		{"-app", ""},
		{"app-", ""},
		{"a...b", ""},
		{"a___b", ""},
		{"app//x", ""},
		{"/app", ""},
		{"app/", ""},
		{"app name", ""},
		{"-bad.host/app", ""},
		{"host:port/app", ""},
		{"app@sha256:" + strings.Repeat("a", 64), ""},
		{"app:dev@sha256:" + strings.Repeat("a", 64), ""},
		{strings.Repeat("a", 256), ""},
		{"../../etc", ""},
		// Where reference.Parse and Docker's reading of the first
		// component differ, the name is refused.
		{"my_host.com/app", ""},
		{"[ab]/app", ""},
		{strings.Repeat("a", 64), strings.Repeat("a", 64) + ":latest"},
		{"x/" + strings.Repeat("a", 253), "x/" + strings.Repeat("a", 253) + ":latest"},
		{"x/" + strings.Repeat("a", 254), ""},
		{"app@sha512:" + strings.Repeat("a", 128), ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizeName(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDockerFullName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"app", "docker.io/library/app:latest"},
		{"app:dev", "docker.io/library/app:dev"},
		{"x/app:1", "docker.io/x/app:1"},
		{"docker.io/app:1", "docker.io/library/app:1"},
		{"index.docker.io/app:1", "docker.io/library/app:1"},
		{"localhost:5000/x:1", "localhost:5000/x:1"},
		{"localhost/app", "localhost/app:latest"},
		{"ghcr.io/o/r:v", "ghcr.io/o/r:v"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ref, err := parseReference(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := dockerFullName(ref); err != nil || got != tt.want {
				t.Errorf("dockerFullName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDockerFullNameRefuses(t *testing.T) {
	// Docker takes 64 hex digits for an image ID, and "library/" makes
	// this name too long.
	for _, in := range []string{strings.Repeat("a", 64), strings.Repeat("a", 250)} {
		ref, err := parseReference(in)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := dockerFullName(ref); err == nil {
			t.Errorf("dockerFullName(%q) = %q, want an error", in, got)
		}
	}
}
