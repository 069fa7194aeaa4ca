//go:build !unix

package main

// privateUmask does nothing where there is no umask; the data directory's
// own mode (0700) still keeps other users out.
func privateUmask() {}
