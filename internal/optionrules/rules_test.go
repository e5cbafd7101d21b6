// Package optionrules holds, in its test, the option convention of every
// package of the library (riverexec included, read from its directory):
// options have bare names (no With prefix), one name per concept, an
// OnError whose doc says what a nil handler does, and a test in the package
// that passes a nil option to each kind of option a constructor takes.
package optionrules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// packages are the directories, relative to the module root, whose exported
// options follow the convention.
var packages = []string{".", "fireforget", "pool", "errgroup", "subprocess", "executortest", "riverexec"}

// synonyms are names retired in favour of the one each concept has
// everywhere: RejectWhenFull (reject at capacity), Limit (cap admitted,
// unfinished tasks), MaxWaiting (bound waiting submitters), UseCodec.
var synonyms = map[string]string{
	"RejectAtLimit": "RejectWhenFull",
	"Rejecting":     "RejectWhenFull",
	"MaxPending":    "Limit",
	"WithCodec":     "UseCodec",
}

// A pkg is what the rules look at in one directory.
type pkg struct {
	dir         string
	optionTypes map[string]bool   // exported types named *Option
	ctors       map[string]string // exported func -> the option type of its variadic parameter
	funcs       map[string]*ast.FuncDecl
	tests       []*ast.File
}

func load(t *testing.T, dir string) *pkg {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &pkg{dir: dir, optionTypes: map[string]bool{}, ctors: map[string]string{}, funcs: map[string]*ast.FuncDecl{}}
	var src []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), "_test.go") {
			p.tests = append(p.tests, f)
		} else {
			src = append(src, f)
		}
	}
	for _, f := range src {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() && strings.HasSuffix(ts.Name.Name, "Option") {
						p.optionTypes[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					p.funcs[d.Name.Name] = d
				}
			}
		}
	}
	for name, fd := range p.funcs {
		params := fd.Type.Params.List
		if len(params) == 0 {
			continue
		}
		if el, ok := params[len(params)-1].Type.(*ast.Ellipsis); ok {
			if id, ok := el.Elt.(*ast.Ident); ok && p.optionTypes[id.Name] {
				p.ctors[name] = id.Name
			}
		}
	}
	return p
}

// resultName returns the name of fd's single result type, or "".
func resultName(fd *ast.FuncDecl) string {
	if fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
		return ""
	}
	if id, ok := fd.Type.Results.List[0].Type.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func loadAll(t *testing.T) []*pkg {
	var ps []*pkg
	for _, d := range packages {
		ps = append(ps, load(t, filepath.Join("..", "..", d)))
	}
	return ps
}

// TestBareNames: no option constructor starts with With, and no retired
// synonym is exported anywhere.
func TestBareNames(t *testing.T) {
	for _, p := range loadAll(t) {
		n := 0
		for name, fd := range p.funcs {
			if !p.optionTypes[resultName(fd)] {
				continue
			}
			n++
			if strings.HasPrefix(name, "With") {
				t.Errorf("%s: option %s has a With prefix; options have bare names", p.dir, name)
			}
		}
		if n == 0 {
			t.Errorf("%s: found no option constructor: is the walk broken?", p.dir)
		}
		for name := range p.funcs {
			if want, ok := synonyms[name]; ok {
				t.Errorf("%s: %s is a retired synonym; the name of that option is %s", p.dir, name, want)
			}
		}
	}
}

// TestOnErrorNil: every OnError says in its doc that a nil handler makes
// the constructor return an error, the one meaning OnError(nil) has.
func TestOnErrorNil(t *testing.T) {
	n := 0
	for _, p := range loadAll(t) {
		fd, ok := p.funcs["OnError"]
		if !ok {
			continue
		}
		n++
		if doc := strings.Join(strings.Fields(fd.Doc.Text()), " "); !strings.Contains(doc, "A nil fn makes [New] return an error") &&
			!strings.Contains(doc, "A nil fn makes New return an error") {
			t.Errorf("%s: OnError's doc does not say that a nil fn makes New return an error:\n%s", p.dir, doc)
		}
	}
	if n < 4 {
		t.Errorf("found OnError in %d packages; want fireforget, pool, subprocess and riverexec", n)
	}
}

// TestNilOptionTested: for every kind of option a constructor takes, the
// package's tests pass a nil one, either in a call of such a constructor
// (at or after its variadic parameter) or in a []Kind{...} literal.
func TestNilOptionTested(t *testing.T) {
	for _, p := range loadAll(t) {
		want := map[string]bool{}
		for _, typ := range p.ctors {
			want[typ] = true
		}
		if len(want) == 0 {
			t.Errorf("%s: no constructor takes options: is the walk broken?", p.dir)
		}
		got := map[string]bool{}
		for _, f := range p.tests {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					name := calleeName(n.Fun)
					typ, ok := p.ctors[name]
					if !ok {
						return true
					}
					first := -1 // the index of the variadic parameter; Params.List groups names
					for _, f := range p.funcs[name].Type.Params.List {
						first += max(len(f.Names), 1)
					}
					if n.Ellipsis == token.NoPos && slices.ContainsFunc(n.Args[min(first, len(n.Args)):], isNil) {
						got[typ] = true
					}
				case *ast.CompositeLit:
					if at, ok := n.Type.(*ast.ArrayType); ok && at.Len == nil && want[typeName(at.Elt)] && slices.ContainsFunc(n.Elts, isNil) {
						got[typeName(at.Elt)] = true
					}
				}
				return true
			})
		}
		for typ := range want {
			if !got[typ] {
				t.Errorf("%s: no test passes a nil %s to a constructor", p.dir, typ)
			}
		}
	}
}

func isNil(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "nil" }

// calleeName returns the function's name in f(...), pkg.f(...), f[T](...).
func calleeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return calleeName(e.X)
	case *ast.IndexListExpr:
		return calleeName(e.X)
	}
	return ""
}

// typeName returns Kind for Kind and pkg.Kind.
func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}
