package doctor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/binfmt"
	"github.com/minibuild/minibuild/internal/platform"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// checkEmulation says for which other platforms RUN can run binaries
// here: natively, or through binfmt_misc handlers with the F flag.
func checkEmulation() Check {
	return emulationCheck(platform.Host(), binfmt.Platforms(), binfmt.Lookup)
}

func emulationCheck(host ocispec.Platform, ps []ocispec.Platform, lookup func(ocispec.Platform) (*binfmt.Handler, error)) Check {
	c := Check{Name: "emulation"}
	var native, emulated, none []string
	var broken []error
	var whole, missing *binfmt.Error // binfmt_misc unusable; the first platform without a handler
	for _, p := range ps {
		if p.Architecture == host.Architecture {
			continue
		}
		h, err := lookup(p)
		var e *binfmt.Error
		switch {
		case err == nil && h == nil:
			native = append(native, platform.Format(p))
		case err == nil:
			emulated = append(emulated, platform.Format(p))
		case !errors.As(err, &e):
			broken = append(broken, err)
		case e.Problem == binfmt.NotMounted || e.Problem == binfmt.Disabled:
			if whole == nil || whole.Native != nil {
				whole = e
			}
		case e.Problem == binfmt.NoHandler || e.Problem == binfmt.NotRegistered:
			none = append(none, platform.Format(p))
			if missing == nil || missing.Native != nil { // rather one QEMU installs
				missing = e
			}
		default:
			broken = append(broken, err)
		}
	}
	var parts []string
	if len(emulated) > 0 {
		parts = append(parts, strings.Join(emulated, ", ")+" (binfmt_misc, F)")
	}
	if len(native) > 0 {
		parts = append(parts, strings.Join(native, ", ")+" natively")
	}
	switch {
	case len(broken) > 0:
		c.Status = Warning
		var e *binfmt.Error
		if errors.As(broken[0], &e) {
			parts = append(parts, "not "+platform.Format(e.Platform)+": "+e.Detail())
			c.Fix = e.Fix()
		} else {
			parts = append(parts, broken[0].Error())
		}
	case len(emulated) > 0:
		if len(none) > 0 {
			parts = append(parts, "no handler for "+strings.Join(none, ", "))
		}
	case whole != nil:
		c.Status = Missing
		parts = append([]string{"none: " + whole.Detail()}, parts...)
		c.Fix = whole.Fix()
	case missing != nil:
		c.Status = Missing
		parts = append([]string{fmt.Sprintf("none: RUN of other architectures' binaries fails here (no binfmt_misc handler for %s, ...)", platform.Format(missing.Platform))}, parts...)
		c.Fix = missing.Fix()
		if missing.Problem == binfmt.NoHandler && missing.Native == nil {
			c.Fix = "sudo apt-get install qemu-user-static (Debian/Ubuntu), or docker run --privileged --rm tonistiigi/binfmt --install all"
		}
	}
	c.Detail = strings.Join(parts, "; ")
	return c
}
