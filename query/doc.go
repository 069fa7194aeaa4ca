// Package query turns what a shopper types into data: the text analyzer
// shared by indexing and querying, the query AST, filters and sort orders.
//
// Everything here is pure and safe for concurrent use. The package never
// imports the index: a shard evaluates the query it is given.
package query
