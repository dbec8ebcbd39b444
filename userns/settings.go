package userns

import (
	"os"
	"path/filepath"
	"strings"
)

// Setting is a kernel setting that decides whether an unprivileged user
// may create user namespaces, with its value as read from /proc/sys.
type Setting struct {
	Name  string // as sysctl names it, e.g. kernel.unprivileged_userns_clone
	Value string
}

// settingNames are the settings Settings reads, when the kernel has them.
var settingNames = []string{
	"kernel.unprivileged_userns_clone",             // Debian's and older Ubuntu's patch
	"user.max_user_namespaces",                     // every kernel
	"kernel.apparmor_restrict_unprivileged_userns", // Ubuntu 23.10 and later
}

// Settings reads the settings this kernel has.
func Settings() []Setting { return readSettings("/proc/sys") }

// readSettings reads the settings present under procSys.
func readSettings(procSys string) []Setting {
	var out []Setting
	for _, name := range settingNames {
		b, err := os.ReadFile(filepath.Join(procSys, strings.ReplaceAll(name, ".", "/")))
		if err != nil {
			continue
		}
		out = append(out, Setting{Name: name, Value: strings.TrimSpace(string(b))})
	}
	return out
}

// String is the setting as sysctl prints it: name=value.
func (s Setting) String() string { return s.Name + "=" + s.Value }

// Blocks reports whether s keeps unprivileged users from creating user
// namespaces and, when it does, what lifts it.
func (s Setting) Blocks() (fix string, blocks bool) {
	switch {
	case s.Name == "kernel.unprivileged_userns_clone" && s.Value == "0":
		return "sudo sysctl -w kernel.unprivileged_userns_clone=1 (Debian; keep it in /etc/sysctl.d/)", true
	case s.Name == "user.max_user_namespaces" && s.Value == "0":
		return "sudo sysctl -w user.max_user_namespaces=15000 (keep it in /etc/sysctl.d/)", true
	case s.Name == "kernel.apparmor_restrict_unprivileged_userns" && s.Value == "1":
		return "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu; or an AppArmor profile for minibuild that allows userns)", true
	}
	return "", false
}

// Blocking is the first of settings that blocks user namespaces, and
// whether there is one.
func Blocking(settings []Setting) (Setting, bool) {
	for _, s := range settings {
		if _, b := s.Blocks(); b {
			return s, true
		}
	}
	return Setting{}, false
}

// unavailable explains that no user namespace could be had because of
// cause, naming the setting that blocks them when one does, in one line.
func unavailable(cause error, settings []Setting) error {
	if s, ok := Blocking(settings); ok {
		fix, _ := s.Blocks()
		return &UnavailableError{Err: cause, Setting: s.String(), Fix: fix}
	}
	return &UnavailableError{Err: cause}
}
