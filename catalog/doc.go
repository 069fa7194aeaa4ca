// Package catalog owns the product model: products, variants, offers,
// prices, stock per warehouse, warehouses and the catalog events with their
// codecs and validation. Plain data; no I/O.
//
// The types are plain data with no I/O. A Product is treated as immutable once
// it is handed to the index: writers build a new value for every change and
// bump its Version, so readers can share pointers without locks.
package catalog
