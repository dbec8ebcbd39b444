// Package store keeps images as content-addressed blobs and tags in a directory that is itself a valid OCI image layout.
package store
