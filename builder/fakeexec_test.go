package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootfs"
	"golang.org/x/sys/unix"
)

// fakeExecutor runs a RUN's command in a tiny language instead of a
// process, changing the rootfs only through rootfs.Root (confined, chroot
// semantics). The command is the shell form's script (["/bin/sh", "-c",
// SCRIPT]) or the exec form's argv joined by spaces. It holds commands
// separated by "&&" or newlines; $NAME and ${NAME} expand from the
// process's environment, quotes group words, and "> FILE" sends a
// command's output to FILE instead of Stdout:
//
//	echo WORDS...   prints the words and a newline
//	cat FILE...     prints the files
//	env             prints the environment, one KEY=VALUE a line
//	mkdir DIR       makes a directory (and its parents)
//	rm PATH         removes a file or an empty directory
//	true            does nothing
//	fail CODE       stops with exit code CODE
//
// Files are made as the process's uid and gid, mode 0644 (0755 for
// directories); relative paths are against the working directory.
type fakeExecutor struct {
	mu    sync.Mutex
	procs []ranProcess
	// step, when set, tells which step of the build is running.
	step func() int
}

var _ executor.Executor = (*fakeExecutor)(nil)

// ranProcess is what the fake executor was asked to run.
type ranProcess struct {
	Step     int // the build step that ran it (fakeExecutor.step)
	Args     []string
	Env      []string
	Cwd      string
	UID, GID uint32
}

// Run records p and runs its command in rootfsDir.
func (f *fakeExecutor) Run(ctx context.Context, rootfsDir string, p executor.Process) error {
	rp := ranProcess{Args: append([]string(nil), p.Args...), Env: append([]string(nil), p.Env...), Cwd: p.Cwd, UID: p.UID, GID: p.GID}
	if w, ok := p.Stdout.(*outputWriter); ok {
		rp.Step = w.index // the step's own, whichever else runs at once
	} else if f.step != nil {
		rp.Step = f.step()
	}
	f.mu.Lock()
	f.procs = append(f.procs, rp)
	f.mu.Unlock()
	root, err := rootfs.Open(rootfsDir)
	if err != nil {
		return err
	}
	defer root.Close()
	script := strings.Join(p.Args, " ")
	if len(p.Args) == 3 && p.Args[0] == "/bin/sh" && p.Args[1] == "-c" {
		script = p.Args[2]
	}
	sh := &fakeShell{root: root, env: p.Env, cwd: p.Cwd, uid: int(p.UID), gid: int(p.GID), stdout: p.Stdout}
	for _, line := range strings.Split(script, "\n") {
		for _, cmd := range strings.Split(line, "&&") {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := sh.run(cmd); err != nil {
				return err
			}
		}
	}
	return nil
}

// ran returns the processes run so far.
func (f *fakeExecutor) ran() []ranProcess {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ranProcess(nil), f.procs...)
}

// fakeShell runs the fake executor's commands for one process.
type fakeShell struct {
	root     *rootfs.Root
	env      []string
	cwd      string
	uid, gid int
	stdout   io.Writer
}

// run runs one command.
func (sh *fakeShell) run(cmd string) error {
	words, err := splitWords(os.Expand(cmd, sh.lookup))
	if err != nil || len(words) == 0 {
		return err
	}
	var redirect string
	if n := len(words); n >= 2 && words[n-2] == ">" {
		words, redirect = words[:n-2], words[n-1]
	}
	var out bytes.Buffer
	if err := sh.exec(words[0], words[1:], &out); err != nil {
		return err
	}
	if redirect != "" {
		return sh.root.WriteFile(sh.abs(redirect), &out, 0o644, sh.uid, sh.gid, time.Time{})
	}
	if sh.stdout != nil {
		_, err = sh.stdout.Write(out.Bytes())
	}
	return err
}

// exec runs the command name with args, writing its output to out.
func (sh *fakeShell) exec(name string, args []string, out *bytes.Buffer) error {
	switch name {
	case "true":
	case "echo":
		fmt.Fprintln(out, strings.Join(args, " "))
	case "env":
		for _, kv := range sh.env {
			fmt.Fprintln(out, kv)
		}
	case "cat":
		for _, a := range args {
			f, err := sh.root.OpenFile(sh.abs(a))
			if err != nil {
				return fmt.Errorf("cat: %w", err)
			}
			_, err = io.Copy(out, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("cat: %w", err)
			}
		}
	case "mkdir":
		for _, a := range args {
			if _, err := sh.root.MkdirAll(sh.abs(a), 0o755, sh.uid, sh.gid); err != nil {
				return fmt.Errorf("mkdir: %w", err)
			}
		}
	case "rm":
		for _, a := range args {
			if err := sh.remove(sh.abs(a)); err != nil {
				return fmt.Errorf("rm: %w", err)
			}
		}
	case "fail":
		code, err := strconv.Atoi(strings.Join(args, ""))
		if err != nil {
			return fmt.Errorf("fail: want an exit code: %w", err)
		}
		return &executor.ExitError{Code: code}
	default:
		return &executor.ExitError{Code: 127} // the shell's "command not found"
	}
	return nil
}

// remove unlinks p, or removes it when it is an empty directory, from
// its parent directory's descriptor (never a host path).
func (sh *fakeShell) remove(p string) error {
	dir, base := path.Split(p)
	d, err := sh.root.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	info, err := sh.root.Lstat(p)
	if err != nil {
		return err
	}
	flags := 0
	if info.Mode.IsDir() {
		flags = unix.AT_REMOVEDIR
	}
	return unix.Unlinkat(int(d.Fd()), base, flags)
}

// abs makes p absolute against the working directory.
func (sh *fakeShell) abs(p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join("/", sh.cwd, p)
}

// lookup is a variable's value in the process's environment ("" unset).
func (sh *fakeShell) lookup(name string) string {
	v, _ := lookupEnv(sh.env, name)
	return v
}

// splitWords splits s at spaces outside quotes and removes the quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
