// Package lint keeps the code base's shape: it owns the layer table of
// ../shared/STYLE.md, the import graph read from go list, and its picture
// (doc/layers.svg, drawn by ./layersvg); its tests check the layering, a
// package comment in every package, the serving binary's dependencies and
// that the picture is current.
package lint
