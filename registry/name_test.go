package registry

import "testing"

func TestParseRef(t *testing.T) {
	const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		in   string
		want string
		ref  string
		err  bool
	}{
		{in: "alpine", want: "docker.io/library/alpine:latest", ref: "latest"},
		{in: "alpine:3.20", want: "docker.io/library/alpine:3.20", ref: "3.20"},
		{in: "user/app", want: "docker.io/user/app:latest", ref: "latest"},
		{in: "docker.io/alpine", want: "docker.io/library/alpine:latest", ref: "latest"},
		{in: "127.0.0.1:5000/base/busybox:1", want: "127.0.0.1:5000/base/busybox:1", ref: "1"},
		{in: "localhost/app", want: "localhost/app:latest", ref: "latest"},
		{in: "ghcr.io/o/r@" + dgst, want: "ghcr.io/o/r@" + dgst, ref: dgst},
		{in: "ghcr.io/o/r:v1@" + dgst, want: "ghcr.io/o/r@" + dgst, ref: dgst},
		{in: "app/UPPER", err: true},
		{in: "", err: true},
		{in: "app:bad tag", err: true},
		{in: "app@sha256:short", err: true},
		{in: "my_host.com/app", err: true}, // a host distribution/reference reads as a path
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRef(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("ParseRef(%q) = %+v, want an error", tt.in, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tt.want || r.Reference() != tt.ref {
				t.Errorf("ParseRef(%q) = %s (reference %s), want %s (%s)", tt.in, r, r.Reference(), tt.want, tt.ref)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1:5000": true, "127.1.2.3": true,
		"[::1]:5000": true, "::1": true, "registry.example.com": false, "10.0.0.1:5000": false,
		"docker.io": false, "localhost.example.com": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
