package lint

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = Module

func listPackages(t *testing.T) []Package {
	t.Helper()
	pkgs, err := List("../..")
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func top(importPath string) string { return Top(importPath) }

func TestLayers(t *testing.T) {
	for _, p := range listPackages(t) {
		from := top(p.ImportPath)
		if from == "internal" {
			continue
		}
		fl, ok := Layers()[from]
		if !ok {
			t.Errorf("package %s is in top-level folder %q, which has no layer in the table", p.ImportPath, from)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := top(imp)
			if to == "internal" || to == from {
				continue
			}
			if to == "cmd" {
				t.Errorf("%s imports %s: nothing imports cmd/", p.ImportPath, imp)
				continue
			}
			tl := Layers()[to]
			if tl >= fl {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point to a lower layer", p.ImportPath, fl, imp, tl)
			}
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Name == "main" {
			continue
		}
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no package comment (put one in doc.go)", p.ImportPath)
		}
	}
}

// TestServingBinaryDeps: the serving binary links no peer engine of the
// benchmark (Bleve) nor the benchmark itself; cmd/aisle-bench does. The
// PostgreSQL driver it links for the commerce store (--commerce-db,
// issue 21), not for the benchmark.
func TestServingBinaryDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", module+"/cmd/aisle")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/blevesearch/bleve") || dep == module+"/bench" {
			t.Errorf("cmd/aisle links %s", dep)
		}
	}
}

// TestLayersPicture: doc/layers.svg is what go run ./internal/lint/layersvg
// draws from the imports of today.
func TestLayersPicture(t *testing.T) {
	nodes, edges := Graph(listPackages(t))
	want := SVG(nodes, edges)
	got, err := os.ReadFile("../../doc/layers.svg")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("doc/layers.svg is stale (%v): run go run ./internal/lint/layersvg from the repository root", err)
	}
}

// TestCmdAisleThin: cmd/aisle is flags, usage and calls into app: under
// 400 lines of non-test Go (issue 15). What a command does goes in app.
func TestCmdAisleThin(t *testing.T) {
	files, err := filepath.Glob("../../cmd/aisle/*.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(b, []byte("\n"))
	}
	if lines >= 400 {
		t.Errorf("cmd/aisle has %d lines of non-test Go; keep it under 400 by moving what a command does into package app", lines)
	}
}
