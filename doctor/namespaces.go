package doctor

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/minibuild/minibuild/userns"
)

// checkUserNS tries to make a user namespace, and says whether it could
// and, when not, which kernel setting forbids it.
func checkUserNS(root bool) (Check, bool) {
	if root {
		return Check{Name: "user namespaces", Detail: "not needed as root"}, false
	}
	cmd := probe(probeRoot)
	oneIDNamespace(cmd)
	return userNSCheck(run(cmd), userns.Settings())
}

// userNSCheck is the check for the result of the namespace probe, err,
// on a kernel with settings.
func userNSCheck(err error, settings []userns.Setting) (Check, bool) {
	c := Check{Name: "user namespaces"}
	var shown []string
	for _, s := range settings {
		shown = append(shown, s.String())
	}
	values := ""
	if len(shown) > 0 {
		values = " (" + strings.Join(shown, ", ") + ")"
	}
	if err == nil {
		c.Detail = "an ordinary user can create them" + values
		return c, true
	}
	c.Status = Missing
	c.Detail = fmt.Sprintf("cannot create one (%s)%s", probeError(err), values)
	if s, ok := userns.Blocking(settings); ok {
		c.Detail = fmt.Sprintf("cannot create one: %s forbids it (%s)", s, probeError(err))
		c.Fix, _ = s.Blocks()
	} else if errors.Is(err, syscall.ENOSPC) {
		c.Fix = "raise user.max_user_namespaces (sudo sysctl -w user.max_user_namespaces=15000), or end processes holding user namespaces"
	} else {
		c.Fix = "build as root"
	}
	return c, false
}

// probeError is err without the "fork/exec /proc/self/exe: " of a failed start.
func probeError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
