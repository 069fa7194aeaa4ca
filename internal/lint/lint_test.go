package lint

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/aisle/aisle"

// layers is the table of ../shared/STYLE.md: a package may import only
// packages of a lower layer. internal/ packages sit beside the layer of
// their importer and are not checked.
var layers = map[string]int{
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
	"app":      4,
	"cmd":      5,
}

type pkg struct {
	ImportPath string
	Imports    []string
	Doc        string
	Name       string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// top returns the top-level folder of a module package, "" for the root.
func top(importPath string) string {
	rel := strings.TrimPrefix(importPath, module)
	rel = strings.TrimPrefix(rel, "/")
	top, _, _ := strings.Cut(rel, "/")
	return top
}

func TestLayers(t *testing.T) {
	for _, p := range listPackages(t) {
		from := top(p.ImportPath)
		if from == "internal" {
			continue
		}
		fl, ok := layers[from]
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
			tl := layers[to]
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
