package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
)

// Module is the module path of the code base.
const Module = "github.com/aisle/aisle"

// Layers returns the table of ../shared/STYLE.md: a package may import only
// packages of a lower layer. internal/ packages sit beside the layer of
// their importer and are not checked.
func Layers() map[string]int {
	return map[string]int{
		"catalog":  0,
		"query":    0,
		"rank":     0,
		"spell":    0,
		"index":    1,
		"recs":     1,
		"ingest":   1,
		"corpora":  1,
		"commerce": 1,
		"auth":     1,
		"search":   2,
		"server":   3,
		"bench":    3,
		"cluster":  3,
		"app":      4,
		"cmd":      5,
	}
}

// Package is what go list says of a package of the module.
type Package struct {
	ImportPath string
	Imports    []string
	Doc        string
	Name       string
}

// List runs go list -json over the module in dir.
func List(dir string) ([]Package, error) {
	cmd := exec.Command("go", "list", "-json", Module+"/...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var pkgs []Package
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// Top returns the top-level folder of a module package, "" for the root.
func Top(importPath string) string {
	rel := strings.TrimPrefix(importPath, Module)
	rel = strings.TrimPrefix(rel, "/")
	top, _, _ := strings.Cut(rel, "/")
	return top
}

// Name is how the picture names a package: its top-level folder, or its
// path under cmd/ for a binary.
func Name(importPath string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(importPath, Module), "/")
	if strings.HasPrefix(rel, "cmd/") {
		return rel
	}
	return Top(importPath)
}

// Edge is an import between two named packages of different folders.
type Edge struct{ From, To string }

// Graph returns the named packages of pkgs outside internal/ and the import
// edges between them, both sorted.
func Graph(pkgs []Package) (nodes []string, edges []Edge) {
	seenNode := map[string]bool{}
	seenEdge := map[Edge]bool{}
	for _, p := range pkgs {
		from := Name(p.ImportPath)
		if Top(p.ImportPath) == "internal" || from == "" {
			continue
		}
		seenNode[from] = true
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, Module+"/") || Top(imp) == "internal" {
				continue
			}
			if to := Name(imp); to != from {
				seenEdge[Edge{from, to}] = true
			}
		}
	}
	for n := range seenNode {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for e := range seenEdge {
		edges = append(edges, e)
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].From != edges[j].From {
			return edges[i].From < edges[j].From
		}
		return edges[i].To < edges[j].To
	})
	return nodes, edges
}
