// Package buildflags parses the text forms of build options (-o, --cache-to and --cache-from, --platform, --build-context, --network, --compression, --secret, --ssh) into the session's settings, as buildx's util/buildflags does for buildx.
package buildflags
