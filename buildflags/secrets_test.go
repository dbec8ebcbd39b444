package buildflags

import (
	"strings"
	"testing"

	"github.com/minibuild/minibuild/secrets"
)

func TestParseSecret(t *testing.T) {
	tests := []struct {
		in      string
		want    secrets.Source
		wantErr string
	}{
		{in: "id=tok,src=/run/tok", want: secrets.Source{ID: "tok", File: "/run/tok"}},
		{in: "id=tok,source=a.txt", want: secrets.Source{ID: "tok", File: "a.txt"}},
		{in: "id=tok,env=TOKEN", want: secrets.Source{ID: "tok", Env: "TOKEN"}},
		{in: "id=tok,type=env,src=TOKEN", want: secrets.Source{ID: "tok", Env: "TOKEN"}},
		{in: "id=tok,type=file,src=f", want: secrets.Source{ID: "tok", File: "f"}},
		{in: "id=API_TOKEN", want: secrets.Source{ID: "API_TOKEN"}},
		{in: `"id=a,b",src=f`, want: secrets.Source{ID: "a,b", File: "f"}},
		{in: "src=f", wantErr: "id= is required"},
		{in: "id=a,type=dir", wantErr: `type "dir" is not file or env`},
		{in: "id=a,mode=0400", wantErr: `unexpected key "mode"`},
		{in: "id=a,oops", wantErr: `"oops" is not KEY=VALUE`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSecret(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSecret(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseSSH(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "SSH_AUTH_SOCK" {
			return "/tmp/agent.sock", true
		}
		return "", false
	}
	tests := []struct {
		in      string
		want    secrets.SSHSource
		wantErr string
	}{
		{in: "default", want: secrets.SSHSource{ID: "default", Socket: "/tmp/agent.sock"}},
		{in: "gh", want: secrets.SSHSource{ID: "gh", Socket: "/tmp/agent.sock"}},
		{in: "gh=/run/gh.sock", want: secrets.SSHSource{ID: "gh", Socket: "/run/gh.sock"}},
		{in: "gh=/k1,/k2", wantErr: "key files are not supported"},
		{in: "=/run/x", wantErr: "want default, ID or ID=SOCKET"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSSH(tt.in, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSSH(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}
