// Package catalog holds Aisle's product model: products, variants, prices,
// stock per warehouse, and their validation.
//
// The types are plain data with no I/O. A Product is treated as immutable once
// it is handed to the index: writers build a new value for every change and
// bump its Version, so readers can share pointers without locks.
package catalog
