//go:build unix

package main

import "syscall"

// privateUmask makes every file the process creates readable by its owner
// only (0600, directories 0700), those of libraries included (the
// embedded broker's log, the commerce store): the data directory holds
// order events with user ids, and keys.
func privateUmask() { syscall.Umask(0o077) }
