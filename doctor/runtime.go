package doctor

import (
	"os/exec"
	"strings"
)

// checkRuntime lists the OCI runtimes on PATH; none is needed (the
// built-in executor runs RUN) unless --runtime asks for one.
func checkRuntime() Check {
	return runtimeCheck(exec.LookPath)
}

func runtimeCheck(lookPath func(string) (string, error)) Check {
	c := Check{Name: "OCI runtime"}
	var found []string
	for _, name := range []string{"runc", "crun"} {
		if p, err := lookPath(name); err == nil {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		c.Status = Warning
		c.Detail = "neither runc nor crun on PATH: only the built-in executor (the default) can run RUN; --runtime needs one"
		c.Fix = "sudo apt-get install runc (optional)"
		return c
	}
	c.Detail = strings.Join(found, ", ") + " (for --runtime; the built-in executor needs none)"
	return c
}
