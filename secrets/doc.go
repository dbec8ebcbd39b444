// Package secrets holds a build's secrets and ssh agent sockets, given with --secret and --ssh, in memory for RUN --mount=type=secret and type=ssh; it never writes a value anywhere.
package secrets
