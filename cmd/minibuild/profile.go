package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/pflag"
)

// addProfileFlag registers --cpuprofile on fs and returns where its value
// lands.
func addProfileFlag(fs *pflag.FlagSet) *string {
	return fs.String("cpuprofile", "", "write a CPU profile of this process to `FILE` (read it with go tool pprof)")
}

// withCPUProfile runs do while writing a CPU profile to path; an empty path
// runs do alone. The profile covers minibuild's own process, not the
// processes of RUN steps.
func withCPUProfile(path string, do func() error) (err error) {
	if path == "" {
		return do()
	}
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		return errors.Join(fmt.Errorf("--cpuprofile: %w", err), fh.Close())
	}
	defer func() {
		pprof.StopCPUProfile()
		if cerr := fh.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("--cpuprofile: %w", cerr)
		}
	}()
	return do()
}
