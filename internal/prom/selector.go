package prom

import (
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// promqlParser parses PromQL as Prometheus does, without experimental features: tally's
// queries use none, and a selector must mean the same everywhere.
var promqlParser = parser.NewParser(parser.Options{})

// maxScopedQueries bounds the cache of rewritten queries. The queries are a handful of
// constants whose durations depend on the step, the chunk and the window, so a Client sees
// few distinct ones; the bound only keeps an unusual caller from growing the cache without
// end.
const maxScopedQueries = 256

// scope adds a fixed set of label matchers to every vector selector of the queries it
// rewrites: on a Prometheus that holds several clusters (Thanos, Mimir, VictoriaMetrics, a
// federating Prometheus), tally reads only the series of its own.
type scope struct {
	matchers []*labels.Matcher

	mu    sync.Mutex
	cache map[string]string // query → rewritten query
}

// placeholder names the metric of the selector parseSelector parses, so that matchers that
// are all empty (cluster="", the series without that label) are accepted.
const placeholder = "tally_selector_placeholder"

// parseSelector parses label matchers such as `cluster="prod",env!="dev"`, with or without
// braces. An empty selector (or "{}") is a nil scope: queries are sent as they are.
func parseSelector(sel string) (*scope, error) {
	inner := strings.TrimSpace(sel)
	if strings.HasPrefix(inner, "{") && strings.HasSuffix(inner, "}") {
		inner = inner[1 : len(inner)-1]
	}
	if strings.TrimSpace(inner) == "" {
		return nil, nil
	}
	expr, err := promqlParser.ParseExpr(placeholder + "{" + inner + "}")
	if err != nil {
		if _, perr := promqlParser.ParseMetricSelector("{" + inner + "}"); perr != nil {
			err = perr // the same mistake, at its place in what was given
		}
		return nil, fmt.Errorf("prometheus selector {%s}: %w", inner, err)
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok {
		return nil, fmt.Errorf("prometheus selector {%s}: not a list of label matchers", inner)
	}
	var ms []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		switch {
		case m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual && m.Value == placeholder:
		case m.Name == model.MetricNameLabel:
			return nil, fmt.Errorf("prometheus selector {%s}: must not match the metric name (%s)", inner, model.MetricNameLabel)
		default:
			ms = append(ms, m)
		}
	}
	return &scope{matchers: ms, cache: map[string]string{}}, nil
}

// String is the selector in PromQL, for logs.
func (s *scope) String() string {
	if s == nil {
		return ""
	}
	parts := make([]string, len(s.matchers))
	for i, m := range s.matchers {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// rewrite returns query with the scope's matchers added to each of its vector selectors,
// those of range selectors and subqueries included. A nil scope returns query unchanged.
func (s *scope) rewrite(query string) (string, error) {
	if s == nil {
		return query, nil
	}
	s.mu.Lock()
	out, ok := s.cache[query]
	s.mu.Unlock()
	if ok {
		return out, nil
	}
	expr, err := promqlParser.ParseExpr(query)
	if err != nil {
		return "", &queryError{err: err}
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			vs.LabelMatchers = append(vs.LabelMatchers, s.matchers...)
		}
		return nil
	})
	out = expr.String()
	s.mu.Lock()
	if len(s.cache) >= maxScopedQueries {
		clear(s.cache)
	}
	s.cache[query] = out
	s.mu.Unlock()
	return out, nil
}

// queryError is a query tally cannot send: it does not parse. Asking again does not help.
type queryError struct{ err error }

func (e *queryError) Error() string { return "query does not parse: " + e.err.Error() }
func (e *queryError) Unwrap() error { return e.err }
