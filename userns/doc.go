// Package userns re-executes minibuild, when an ordinary user starts it, as root of a new user namespace that maps the user's own ID and subordinate IDs.
package userns
