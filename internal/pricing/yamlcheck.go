package pricing

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// fields checks the keys of mapping n (at path) against the allowed ones, reporting unknown
// and duplicate keys, and returns the value of each allowed key present, aliases resolved,
// and the line of each key.
func (p *parser) fields(n *yaml.Node, path string, allowed ...string) (f map[string]*yaml.Node, first map[string]int) {
	f, first = map[string]*yaml.Node{}, map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, path, "keys must be strings (want %s), got %s", strings.Join(allowed, ", "), describe(k))
			continue
		}
		field := join(path, k.Value)
		if line, dup := first[k.Value]; dup {
			p.errorf(k.Line, field, "duplicate key (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		if !slices.Contains(allowed, k.Value) {
			p.errorf(k.Line, field, "unknown field (want %s)", strings.Join(allowed, ", "))
			continue
		}
		f[k.Value] = v
	}
	return f, first
}

// maxPrice bounds every price and rate: far above any real one, even in a currency of small
// units, and low enough that weighing a node's capacity cannot overflow to infinity.
const maxPrice = 1e12

// number reads the required non-negative number key of a mapping (fields f, at line), or,
// with positive, a number > 0.
func (p *parser) number(line int, f map[string]*yaml.Node, path, key string, positive bool) float64 {
	field := join(path, key)
	n := f[key]
	if n == nil {
		p.errorf(line, field, "required")
		return 0
	}
	var x float64
	tag := n.ShortTag()
	ok := n.Kind == yaml.ScalarNode && (tag == "!!int" || tag == "!!float") && n.Decode(&x) == nil &&
		!math.IsNaN(x) && !math.IsInf(x, 0) && x >= 0 && (x > 0 || !positive)
	if !ok {
		want := "≥ 0"
		if positive {
			want = "> 0"
		}
		p.errorf(n.Line, field, "must be a number %s, got %s", want, describe(n))
		return 0
	}
	if x > maxPrice {
		p.errorf(n.Line, field, "must be at most %g, got %s", float64(maxPrice), describe(n))
		return 0
	}
	if x == 0 {
		x = 0 // not -0
	}
	return x
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlParserProblems are the messages of gopkg.in/yaml.v3's parser (not its scanner): it
// reports their lines counting from 0.
var yamlParserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
}

// syntaxError reports a YAML error at its line, correcting or finding it where the YAML
// library gets it wrong or leaves it out.
func (p *parser) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(yamlParserProblems, msg) {
		line++
	}
	if line <= 0 {
		line = badLine(data, msg)
	}
	// An error at the end of the file is on its last line, not the one after it.
	last := max(1, bytes.Count(data, []byte("\n"))+1)
	if bytes.HasSuffix(data, []byte("\n")) {
		last--
	}
	p.errorf(max(1, min(line, last)), "", "invalid YAML: %s", msg)
}

// badLine guesses the line of a YAML error reported without one: the first invalid UTF-8 or
// control character, the first use of an unknown anchor, or else line 1 (the library leaves
// the line out when it is the first).
func badLine(data []byte, msg string) int {
	if a, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		anchor, _ := strings.CutSuffix(a, "' referenced")
		if i := bytes.Index(data, []byte("*"+anchor)); anchor != "" && i >= 0 {
			return 1 + bytes.Count(data[:i], []byte("\n"))
		}
	}
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 || !printable(r) {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return 1
}

// printable says whether YAML allows character r in a stream.
func printable(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0x7E || r == 0x85 ||
		r >= 0xA0 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// describe shows a YAML value in an error message.
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!null":
		return "nothing"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	return strconv.Quote(v)
}

// deref resolves an alias (*name) to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)

// join names key of the mapping at path, quoting a key that could be misread.
func join(path, key string) string {
	if !plainKey.MatchString(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
