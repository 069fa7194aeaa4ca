// Package lint holds tests that keep the code base's shape: the import
// layering of ../shared/STYLE.md, and a package comment in every package.
package lint
