// Package doctor checks whether minibuild can build on this machine as the calling user, and says what to fix when it cannot.
package doctor
