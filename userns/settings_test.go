package userns

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string // under /proc/sys
		want     []Setting
		blocking string // the setting that blocks, or ""
	}{
		{name: "none present"},
		{name: "all allow", files: map[string]string{
			"kernel/unprivileged_userns_clone": "1\n", "user/max_user_namespaces": "96362\n",
			"kernel/apparmor_restrict_unprivileged_userns": "0\n"},
			want: []Setting{{"kernel.unprivileged_userns_clone", "1"}, {"user.max_user_namespaces", "96362"},
				{"kernel.apparmor_restrict_unprivileged_userns", "0"}}},
		{name: "debian", files: map[string]string{"kernel/unprivileged_userns_clone": "0\n", "user/max_user_namespaces": "15000\n"},
			want:     []Setting{{"kernel.unprivileged_userns_clone", "0"}, {"user.max_user_namespaces", "15000"}},
			blocking: "kernel.unprivileged_userns_clone=0"},
		{name: "max zero", files: map[string]string{"user/max_user_namespaces": "0\n"},
			want: []Setting{{"user.max_user_namespaces", "0"}}, blocking: "user.max_user_namespaces=0"},
		{name: "ubuntu apparmor", files: map[string]string{"user/max_user_namespaces": "15000\n", "kernel/apparmor_restrict_unprivileged_userns": "1\n"},
			want:     []Setting{{"user.max_user_namespaces", "15000"}, {"kernel.apparmor_restrict_unprivileged_userns", "1"}},
			blocking: "kernel.apparmor_restrict_unprivileged_userns=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, v := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := readSettings(dir)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("settings %v, want %v", got, tc.want)
			}
			s, blocks := Blocking(got)
			if blocks != (tc.blocking != "") || (blocks && s.String() != tc.blocking) {
				t.Errorf("blocking %v %v, want %q", s, blocks, tc.blocking)
			}
			err := unavailable(syscall.EPERM, got)
			if !errors.Is(err, syscall.EPERM) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line wrapping EPERM", err)
			}
			if tc.blocking != "" {
				fix, _ := s.Blocks()
				if !strings.Contains(err.Error(), tc.blocking) || !strings.Contains(err.Error(), fix) {
					t.Errorf("error %q does not name %s and its fix %q", err, tc.blocking, fix)
				}
			}
		})
	}
}
