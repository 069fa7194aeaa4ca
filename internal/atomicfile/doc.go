// Package atomicfile owns how Aisle replaces a file on disk so that a crash
// leaves either the old file or the new one, whole: the bytes go to a
// temporary file in the same directory, which is fsynced and closed, then
// renamed over the target, and the directory is fsynced so the rename
// itself survives a power loss (the discipline of pebble's vfs). Every
// error on the way is returned: a write whose fsync failed is a write that
// did not happen.
//
// Files are created with mode 0600 and directories with 0700: the data
// directory holds order events, user ids and keys.
//
// The functions hold no state and are safe for concurrent use on distinct
// paths; two concurrent writes of one path leave one of the two.
package atomicfile
