// Command layersvg draws doc/layers.svg, the picture at the top of
// doc/design.md, from the imports of the code (go list): run it from the
// repository root after adding a package or an import between packages.
// internal/lint.TestLayersPicture fails while the file is stale.
//
//	go run ./internal/lint/layersvg
package main

import (
	"fmt"
	"os"

	"github.com/aisle/aisle/internal/lint"
)

func main() {
	pkgs, err := lint.List(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "layersvg:", err)
		os.Exit(1)
	}
	nodes, edges := lint.Graph(pkgs)
	if err := os.WriteFile("doc/layers.svg", lint.SVG(nodes, edges), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "layersvg:", err)
		os.Exit(1)
	}
}
