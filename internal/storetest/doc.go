// Package storetest makes the layers, images and damaged files that the tests of store, maintenance, session and manifest share.
package storetest
