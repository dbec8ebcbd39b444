// Package mountcache keeps the directories of RUN --mount=type=cache, which persist across builds, one per cache id, under ROOT/mounts.
package mountcache
