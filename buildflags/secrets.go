package buildflags

import (
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/secrets"
)

// ParseSecret parses one --secret as buildx does:
// id=NAME[,src=FILE|source=FILE][,env=VAR][,type=file|env]. With neither
// src nor env the value is the variable NAME, or else the file NAME (see
// secrets.Source). Only the source is parsed; nothing is read.
func ParseSecret(s string) (secrets.Source, error) {
	var src secrets.Source
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return src, fmt.Errorf("invalid --secret %q: %w", s, err)
	}
	typ := ""
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return src, fmt.Errorf("invalid --secret %q: %q is not KEY=VALUE", s, f)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "id":
			src.ID = v
		case "src", "source":
			src.File = v
		case "env":
			src.Env = v
		case "type":
			if v != "file" && v != "env" {
				return src, fmt.Errorf("invalid --secret %q: type %q is not file or env", s, v)
			}
			typ = v
		default:
			return src, fmt.Errorf("invalid --secret %q: unexpected key %q (want id, src, env or type)", s, k)
		}
	}
	if typ == "env" && src.Env == "" {
		src.Env, src.File = src.File, ""
	}
	if src.ID == "" {
		return src, fmt.Errorf("invalid --secret %q: id= is required", s)
	}
	return src, nil
}

// ParseSSH parses one --ssh: "default" (the agent of $SSH_AUTH_SOCK),
// "ID" (the same agent under another id) or "ID=SOCKET". getenv looks up
// SSH_AUTH_SOCK. Private key files (buildx's ID=KEY) are refused with a
// hint: minibuild forwards running agents only.
func ParseSSH(s string, getenv func(string) (string, bool)) (secrets.SSHSource, error) {
	id, path, ok := strings.Cut(s, "=")
	if id == "" {
		return secrets.SSHSource{}, fmt.Errorf("invalid --ssh %q: want default, ID or ID=SOCKET", s)
	}
	if !ok || path == "" {
		sock, _ := getenv("SSH_AUTH_SOCK")
		return secrets.SSHSource{ID: id, Socket: sock}, nil
	}
	if strings.Contains(path, ",") {
		return secrets.SSHSource{}, fmt.Errorf("invalid --ssh %q: key files are not supported; load them into an agent (ssh-add) and pass its socket", s)
	}
	return secrets.SSHSource{ID: id, Socket: path}, nil
}
