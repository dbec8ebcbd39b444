// Package rootdir names every folder and file under minibuild's --root, so that no other package spells them.
package rootdir
