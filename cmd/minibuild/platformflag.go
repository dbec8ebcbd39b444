package main

import (
	"fmt"

	"github.com/minibuild/minibuild/buildflags"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

// addPlatform registers --platform on a command that reads one image of
// a multi-platform image (an image index).
func addPlatform(fs *pflag.FlagSet) *string {
	return fs.String("platform", "", "the platform's image of a multi-platform image (os/arch[/variant]; default: the host's)")
}

// parsePlatformFlag parses cmd's --platform value; "" (not given) is nil.
func parsePlatformFlag(cmd, value string) (*ocispec.Platform, error) {
	if value == "" {
		return nil, nil
	}
	p, err := buildflags.ParsePlatform(value)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", cmd, err)}
	}
	return &p, nil
}
