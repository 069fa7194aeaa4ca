// Package query turns what a shopper types into data: the text analyzer
// shared by indexing and querying (AppendTerms, Words, measures), query
// understanding (Understand: price and rating filters, brand, colour, size
// and category boosts), filters and sort orders.
//
// There is no query AST beyond that, on purpose. A query is parsed once,
// into Words (each with its alternative terms, synonyms added by the
// engine) and an Understanding (keywords, the filters it states, the boosts
// it proposes); relaxation, spelling and the index consume those. The
// operators an AST would hold have nothing to evaluate them: the index
// keeps no positions, so a quoted phrase cannot be matched; the storefront
// offers no syntax for exclusions or field scopes, and shoppers do not type
// it (none of the 135 judged Icecat queries does). Add the AST with the
// first operator the index can evaluate.
//
// Everything here is pure and safe for concurrent use. The package never
// imports the index: a shard evaluates the request it is given.
package query
