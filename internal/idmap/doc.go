// Package idmap reads the user namespace's ID mappings (/proc/self/uid_map and gid_map): whether this process runs in the initial user namespace, and whether an ID can own a file here.
package idmap
