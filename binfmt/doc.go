// Package binfmt says whether this machine can run the linux binaries of a platform: natively, or through a binfmt_misc handler (QEMU user emulation) registered with the F flag.
package binfmt
