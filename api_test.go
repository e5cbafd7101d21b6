package execkit_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootAPI returns the functions, types and methods that go doc lists for
// the package in dir (variables and constants apart).
func rootAPI(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/execkit/execkit")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Funcs {
		names = append(names, f.Name)
	}
	for _, ty := range p.Types {
		names = append(names, ty.Name)
		for _, f := range ty.Funcs {
			names = append(names, f.Name)
		}
		for _, m := range ty.Methods {
			names = append(names, ty.Name+"."+m.Name)
		}
	}
	return names
}

// TestRootVocabulary holds the root package to the user's vocabulary: the
// plumbing executors use lives in package driver and internal/.
func TestRootVocabulary(t *testing.T) {
	names := rootAPI(t, ".")
	// 38: every name the vocabulary needs (see doc.go); a new one must replace one.
	// +3: the task policies of issue 13 (TimeLimit, Retry, RateLimit), which
	// every executor enforces; their permanent-error marker is a sentinel.
	const most = 41
	if len(names) > most {
		t.Errorf("the root package lists %d functions, types and methods; want at most %d: %v", len(names), most, names)
	}
	for _, n := range names {
		switch n {
		case "IsNil", "Run", "HasFuture", "SelfReporting", "Invoke", "InvokeBatch", "Invoker",
			"Portable", "RegistryHash", "EncodeError", "DecodeError", "Func.EncodeBatch", "Func.DecodeBatch":
			t.Errorf("the root package exports %s, plumbing for executors: it belongs in package driver", n)
		}
	}
}
