package secrets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// MaxSize bounds one secret, as BuildKit does (500 KiB): a secret is a
// token or a key, not a file tree.
const MaxSize = 500 << 10

// Source is one --secret: the id RUN --mount=type=secret asks for, and
// where its value comes from — a file or an environment variable. With
// neither, the value is the environment variable named ID when it is set,
// else the file named ID (buildx's rule).
type Source struct {
	ID   string
	File string
	Env  string
}

// SSHSource is one --ssh: the id RUN --mount=type=ssh asks for ("default"
// when it names none) and the agent socket that id forwards.
type SSHSource struct {
	ID     string
	Socket string
}

// Store holds the values and sockets of one build. Its zero value (and a
// nil *Store) holds none.
type Store struct {
	values  map[string][]byte
	sockets map[string]string
}

// Load reads every source now, so a missing file or variable fails before
// the build starts, naming it. getenv looks up environment variables
// (os.LookupEnv).
func Load(secrets []Source, ssh []SSHSource, getenv func(string) (string, bool)) (*Store, error) {
	s := &Store{values: map[string][]byte{}, sockets: map[string]string{}}
	for _, src := range secrets {
		if src.ID == "" {
			return nil, errors.New("--secret needs an id")
		}
		if _, dup := s.values[src.ID]; dup {
			return nil, fmt.Errorf("--secret id=%s is given twice", src.ID)
		}
		v, err := value(src, getenv)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", src.ID, err)
		}
		s.values[src.ID] = v
	}
	for _, a := range ssh {
		if a.ID == "" {
			a.ID = "default"
		}
		if _, dup := s.sockets[a.ID]; dup {
			return nil, fmt.Errorf("--ssh %s is given twice", a.ID)
		}
		if err := checkSocket(a.Socket); err != nil {
			return nil, fmt.Errorf("--ssh %s: %w", a.ID, err)
		}
		s.sockets[a.ID] = a.Socket
	}
	return s, nil
}

// value reads one secret's value.
func value(src Source, getenv func(string) (string, bool)) ([]byte, error) {
	switch {
	case src.Env != "":
		v, ok := getenv(src.Env)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", src.Env)
		}
		return checkSize([]byte(v))
	case src.File != "":
		return readFile(src.File)
	}
	if v, ok := getenv(src.ID); ok {
		return checkSize([]byte(v))
	}
	return readFile(src.ID)
}

// readFile reads a secret file, refusing one larger than MaxSize.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	v, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(v) > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, MaxSize)
	}
	return v, nil
}

func checkSize(v []byte) ([]byte, error) {
	if len(v) > MaxSize {
		return nil, fmt.Errorf("the value is larger than %d bytes", MaxSize)
	}
	return v, nil
}

// checkSocket makes sure path is a Unix socket.
func checkSocket(path string) error {
	if path == "" {
		return errors.New("no agent socket (is SSH_AUTH_SOCK set? run ssh-agent and ssh-add)")
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("agent socket: %w", err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s is not a socket: minibuild forwards ssh-agent sockets (load keys with ssh-add)", path)
	}
	return nil
}

// Secret returns the value of the secret id.
func (s *Store) Secret(id string) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	v, ok := s.values[id]
	return v, ok
}

// Socket returns the agent socket of the ssh id.
func (s *Store) Socket(id string) (string, bool) {
	if s == nil {
		return "", false
	}
	v, ok := s.sockets[id]
	return v, ok
}

// IDs are the secret ids the store holds, sorted: what may be said about
// them (never their values).
func (s *Store) IDs() []string {
	if s == nil {
		return nil
	}
	ids := make([]string, 0, len(s.values))
	for id := range s.values {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
