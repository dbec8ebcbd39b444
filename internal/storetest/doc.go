// Package storetest makes the layers and damaged files that the tests of store and maintenance share.
package storetest
