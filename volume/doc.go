// Package volume keeps the named volumes of minibuild run -v NAME:/path: folders under the root that outlive the containers using them, with the locks that keep a volume in use from being removed.
package volume
