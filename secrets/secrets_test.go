package secrets

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := map[string]string{"TOKEN": "from-env", filepath.Join(dir, "token"): "env-wins"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name    string
		secrets []Source
		ssh     []SSHSource
		id      string
		want    string
		wantErr string
	}{
		{name: "file", secrets: []Source{{ID: "a", File: file}}, id: "a", want: "from-file"},
		{name: "env", secrets: []Source{{ID: "a", Env: "TOKEN"}}, id: "a", want: "from-env"},
		{name: "id names a variable", secrets: []Source{{ID: "TOKEN"}}, id: "TOKEN", want: "from-env"},
		{name: "id names a file", secrets: []Source{{ID: file + "x"}}, wantErr: "no such file"},
		{name: "variable before file", secrets: []Source{{ID: file}}, id: file, want: "env-wins"},
		{name: "missing variable", secrets: []Source{{ID: "a", Env: "NOPE"}}, wantErr: "secret a: environment variable NOPE is not set"},
		{name: "missing file", secrets: []Source{{ID: "a", File: filepath.Join(dir, "nope")}}, wantErr: "secret a: open " + dir + "/nope"},
		{name: "directory", secrets: []Source{{ID: "a", File: dir}}, wantErr: "is not a regular file"},
		{name: "too big", secrets: []Source{{ID: "a", File: big}}, wantErr: "larger than"},
		{name: "twice", secrets: []Source{{ID: "a", Env: "TOKEN"}, {ID: "a", File: file}}, wantErr: "given twice"},
		{name: "no id", secrets: []Source{{File: file}}, wantErr: "needs an id"},
		{name: "ssh socket", ssh: []SSHSource{{Socket: sock}}},
		{name: "ssh not a socket", ssh: []SSHSource{{ID: "gh", Socket: file}}, wantErr: "--ssh gh: " + file + " is not a socket"},
		{name: "ssh no socket", ssh: []SSHSource{{Socket: ""}}, wantErr: "SSH_AUTH_SOCK"},
		{name: "ssh twice", ssh: []SSHSource{{Socket: sock}, {ID: "default", Socket: sock}}, wantErr: "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.secrets, tt.ssh, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.id != "" {
				if v, ok := s.Secret(tt.id); !ok || string(v) != tt.want {
					t.Errorf("Secret(%q) = %q, %v, want %q", tt.id, v, ok, tt.want)
				}
			}
			for _, a := range tt.ssh {
				if p, ok := s.Socket("default"); !ok || p != a.Socket {
					t.Errorf("Socket(default) = %q, %v", p, ok)
				}
			}
		})
	}
}

func TestNilStore(t *testing.T) {
	var s *Store
	if _, ok := s.Secret("a"); ok {
		t.Error("nil store has a secret")
	}
	if _, ok := s.Socket("default"); ok {
		t.Error("nil store has a socket")
	}
	if ids := s.IDs(); ids != nil {
		t.Errorf("IDs = %v", ids)
	}
}
