package prom

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	promql "github.com/prometheus/prometheus/promql/parser"
)

func TestParseSelector(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the scope's String; "" for none
		err  string // "" for valid
	}{
		{``, ``, ``},
		{`  `, ``, ``},
		{`{}`, ``, ``},
		{`cluster="prod"`, `{cluster="prod"}`, ``},
		{`{cluster="prod"}`, `{cluster="prod"}`, ``},
		{`cluster="prod",env!="dev"`, `{cluster="prod",env!="dev"}`, ``},
		{` { cluster=~"prod|stage" , env!~"dev.*" } `, `{cluster=~"prod|stage",env!~"dev.*"}`, ``},
		{`{ }`, ``, ``},
		{`cluster=""`, `{cluster=""}`, ``},
		{`cluster=`, ``, `prometheus selector`},
		{`cluster="a"} or {b="c"`, ``, `prometheus selector`},
		{`cluster="a"}[5m`, ``, `prometheus selector`},
		{`cluster="prod"}`, ``, `prometheus selector`},
		{`cluster=~"("`, ``, `prometheus selector`},
		{`up{cluster="prod"}`, ``, `prometheus selector`},
		{`__name__="up"`, ``, `metric name`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := parseSelector(tc.in)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want one about %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case s.String() != tc.want:
				t.Fatalf("scope %q, want %q", s.String(), tc.want)
			}
			if (CheckSelector(tc.in) == nil) != (tc.err == "") {
				t.Errorf("CheckSelector disagrees with parseSelector")
			}
			if _, err := New(Options{URL: "http://p:9090", Selector: tc.in}, nil); (err == nil) != (tc.err == "") {
				t.Errorf("New: %v", err)
			}
		})
	}
}

// packageQueries returns every string constant named query* in the package's source (not
// its tests), whatever file defines it: a query added later is checked too.
func packageQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	exprs := map[string]ast.Expr{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						exprs[name.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.BinaryExpr:
			l, lok := eval(e.X)
			r, rok := eval(e.Y)
			return l + r, lok && rok && e.Op == token.ADD
		case *ast.ParenExpr:
			return eval(e.X)
		case *ast.Ident:
			if x, ok := exprs[e.Name]; ok {
				return eval(x)
			}
		}
		return "", false
	}
	out := map[string]string{}
	for name, e := range exprs {
		if !strings.HasPrefix(name, "query") || len(name) == len("query") {
			continue
		}
		if s, ok := eval(e); ok { // string constants only
			out[name] = s
		}
	}
	return out
}

// fillVerbs fills a query's format verbs the way the package does, with durations.
func fillVerbs(t *testing.T, name, q string) string {
	t.Helper()
	n := strings.Count(q, "%s")
	if strings.Count(q, "%") != n {
		t.Fatalf("%s has format verbs other than %%s: %s", name, q)
	}
	args := make([]any, n)
	for i := range args {
		args[i] = []string{"59999ms", "3600s", "86700s"}[i%3]
	}
	return fmt.Sprintf(q, args...)
}

// selectors returns the vector selectors of a query, those of range selectors and
// subqueries included.
func selectors(t *testing.T, q string) []*promql.VectorSelector {
	t.Helper()
	expr, err := promqlParser.ParseExpr(q)
	if err != nil {
		t.Fatalf("%s does not parse: %v", q, err)
	}
	var out []*promql.VectorSelector
	promql.Inspect(expr, func(node promql.Node, _ []promql.Node) error {
		if vs, ok := node.(*promql.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

func hasMatcher(ms []*labels.Matcher, want *labels.Matcher) bool {
	return slices.ContainsFunc(ms, func(m *labels.Matcher) bool {
		return m.Name == want.Name && m.Type == want.Type && m.Value == want.Value
	})
}

// Every query of the package, rewritten and parsed again, has the selector's matchers on
// each of its series selectors, and is otherwise the query it was.
func TestEveryQueryIsScoped(t *testing.T) {
	queries := packageQueries(t)
	if len(queries) < 10 {
		t.Fatalf("found %d query constants in the package's source, want at least 10: %v", len(queries), queries)
	}
	sc, err := parseSelector(`cluster="prod",env!="dev"`)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	slices.Sort(names)
	t.Logf("query constants: %s", strings.Join(names, ", "))
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			q := fillVerbs(t, name, queries[name])
			orig := selectors(t, q)
			if len(orig) == 0 {
				t.Fatalf("%s has no series selector", q)
			}
			out, err := sc.rewrite(q)
			if err != nil {
				t.Fatal(err)
			}
			got := selectors(t, out)
			if len(got) != len(orig) {
				t.Fatalf("%d selectors after the rewrite, %d before:\n%s\n%s", len(got), len(orig), q, out)
			}
			for i, vs := range got {
				for _, m := range sc.matchers {
					if !hasMatcher(vs.LabelMatchers, m) {
						t.Errorf("selector %s of %s lacks %s", vs, out, m)
					}
				}
				// Nothing else changed: without the added matchers it is the original.
				vs.LabelMatchers = slices.DeleteFunc(vs.LabelMatchers, func(m *labels.Matcher) bool { return hasMatcher(sc.matchers, m) })
				if vs.String() != orig[i].String() {
					t.Errorf("selector %d: %s, was %s", i, vs, orig[i])
				}
			}
			// The rewritten query evaluates the same functions over the same ranges.
			again, err := promqlParser.ParseExpr(out)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := promqlParser.ParseExpr(q)
			if stripMatchers(again.String(), sc) != before.String() {
				t.Errorf("rewrite changed more than the selectors:\n%s\n%s", before, again)
			}
		})
	}
}

// stripMatchers removes the scope's matchers from a printed query.
func stripMatchers(q string, sc *scope) string {
	for _, m := range sc.matchers {
		q = strings.ReplaceAll(q, ","+m.String(), "")
		q = strings.ReplaceAll(q, m.String()+",", "")
		q = strings.ReplaceAll(q, "{"+m.String()+"}", "")
	}
	return q
}

func TestRewriteShapes(t *testing.T) {
	sc, err := parseSelector(`cluster="a"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{`up`, `up{cluster="a"}`},
		{`up{job="x"}`, `up{cluster="a",job="x"}`},
		{`rate(x_total[5m] offset 1h)`, `rate(x_total{cluster="a"}[5m] offset 1h)`},
		{`max_over_time(sum(x)[1h:5m])`, `max_over_time(sum(x{cluster="a"})[1h:5m])`},
		{`a / on (pod) group_left b`, `a{cluster="a"} / on (pod) group_left () b{cluster="a"}`},
		{`{__name__=~"a|b"}`, `{__name__=~"a|b",cluster="a"}`},
		{`x{cluster="b"}`, `x{cluster="a",cluster="b"}`}, // both must hold: nothing matches
		{`vector(1)`, `vector(1)`},
	} {
		got, err := sc.rewrite(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("rewrite(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := sc.rewrite(`sum(`); err == nil || retryable(err) {
		t.Errorf("a query that does not parse: %v, retryable %v", err, retryable(err))
	}
	var none *scope
	if got, err := none.rewrite(`sum(x)`); got != `sum(x)` || err != nil {
		t.Errorf("nil scope: %s, %v", got, err)
	}
}

func TestRewriteCache(t *testing.T) {
	sc, err := parseSelector(`cluster="a"`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				q := fmt.Sprintf("max_over_time(x[%dm])", (i*100+j)%(maxScopedQueries+50)+1)
				if _, err := sc.rewrite(q); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(sc.cache); n == 0 || n > maxScopedQueries {
		t.Fatalf("%d cached queries, want 1..%d", n, maxScopedQueries)
	}
	a, _ := sc.rewrite(queryCPUSeconds)
	b, _ := sc.rewrite(queryCPUSeconds)
	if a != b || sc.cache[queryCPUSeconds] != a {
		t.Fatalf("cached %q, then %q", a, b)
	}
}

// The Client sends every query with the selector; without one, as written.
func TestClientSendsScopedQueries(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Query().Get("query"))
		mu.Unlock()
		if r.URL.Path == pathQuery {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			return
		}
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(srv.Close)

	c := newTestClient(t, srv.URL, Options{Selector: `cluster="prod"`})
	if _, err := c.Usage(t.Context(), t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KubeState(t.Context(), t0, t0.Add(time.Hour), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	sent := slices.Clone(got)
	got = nil
	mu.Unlock()
	if len(sent) < 5 {
		t.Fatalf("%d queries sent", len(sent))
	}
	want := &labels.Matcher{Name: "cluster", Type: labels.MatchEqual, Value: "prod"}
	for _, q := range sent {
		for _, vs := range selectors(t, q) {
			if !hasMatcher(vs.LabelMatchers, want) {
				t.Errorf("sent %s: selector %s without cluster=\"prod\"", q, vs)
			}
		}
	}

	plain := newTestClient(t, srv.URL, Options{})
	if err := oneQuery(plain); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != queryCPUSeconds {
		t.Fatalf("without a selector sent %q, want the query as written", got)
	}
}
