package pricing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the price book at path. Errors name the path and the line.
func Load(path string) (*Book, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read price book: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a price book; name (usually the file name) starts every error
// message. The book is one YAML document:
//
//	currency: USD                # ISO 4217, required
//	defaults:                    # required; rates per unit of capacity and hour
//	  cpuCoreHour: 0.031611      # > 0
//	  ramGiBHour: 0.004237       # > 0
//	  gpuHour: 0.95              # ≥ 0
//	  storageGiBMonth: 0.08      # optional, ≥ 0; a GiB of persistent volume for a month (730 h)
//	nodes:                       # optional; the first rule whose labels all match wins
//	  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
//	    hourly: 0.0704           # ≥ 0, the node's price per hour
//	volumes:                     # optional; the first rule whose conditions all hold wins
//	  - match: {storageClass: gp3}   # and/or provisioner, type (parameters.type), labels: {…}
//	    gibMonth: 0.08           # ≥ 0, a GiB of the volume's capacity for a month
//
// A volume no rule matches is priced at storageGiBMonth; without it, it has no price.
//
// Every problem found is reported, in line order, each as "name:LINE: field: message"
// (joined with errors.Join). Unknown and duplicate keys are errors, and so is a rule that can
// never match because an earlier rule matches every node it would.
func Parse(name string, data []byte) (*Book, error) {
	p := &parser{name: name}
	book := p.parse(data)
	if len(p.problems) > 0 {
		return nil, p.err()
	}
	return book, nil
}

// problem is one thing wrong with a price book.
type problem struct {
	line  int
	field string // e.g. nodes[1].hourly; empty for the whole file
	msg   string
}

type parser struct {
	name     string
	problems []problem
}

func (p *parser) errorf(line int, field, format string, args ...any) {
	p.problems = append(p.problems, problem{line, field, fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].line < p.problems[j].line })
	errs := make([]error, len(p.problems))
	for i, pr := range p.problems {
		if pr.field == "" {
			errs[i] = fmt.Errorf("%s:%d: %s", p.name, pr.line, pr.msg)
		} else {
			errs[i] = fmt.Errorf("%s:%d: %s: %s", p.name, pr.line, pr.field, pr.msg)
		}
	}
	return errors.Join(errs...)
}

func (p *parser) parse(data []byte) *Book {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(1, "", "empty file: want currency, defaults and nodes")
		} else {
			p.syntaxError(data, err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.errorf(next.Line, "", "a second YAML document: a price book is one document")
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(data, err)
	}
	if len(doc.Content) == 0 || deref(doc.Content[0]).ShortTag() == "!!null" {
		p.errorf(max(doc.Line, 1), "", "empty file: want currency, defaults and nodes")
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "must be a mapping with currency, defaults and nodes, got %s", describe(root))
		return nil
	}

	b := &Book{}
	f, keyLine := p.fields(root, "", "currency", "defaults", "nodes", "volumes")
	if v := f["currency"]; v == nil {
		p.errorf(root.Line, "currency", "required")
	} else {
		b.Currency = p.currency(v)
	}
	if v := f["defaults"]; v == nil {
		p.errorf(root.Line, "defaults", "required")
	} else {
		b.Defaults = p.defaults(v, keyLine["defaults"])
	}
	if v := f["nodes"]; v != nil {
		b.Nodes = p.rules(v)
	}
	if v := f["volumes"]; v != nil {
		b.Volumes = p.volumeRules(v)
	}
	return b
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

func (p *parser) currency(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || !currencyCode.MatchString(n.Value) {
		p.errorf(n.Line, "currency", "must be an ISO 4217 code of 3 upper-case letters (e.g. USD), got %s", describe(n))
		return ""
	}
	return n.Value
}

// defaults reads the default rates, mapping n of the key at line.
func (p *parser) defaults(n *yaml.Node, line int) Rates {
	var r Rates
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "defaults", "must be a mapping with cpuCoreHour, ramGiBHour and gpuHour, got %s", describe(n))
		return r
	}
	f, _ := p.fields(n, "defaults", "cpuCoreHour", "ramGiBHour", "gpuHour", "storageGiBMonth")
	r.CPUCoreHour = p.number(line, f, "defaults", "cpuCoreHour", true)
	r.RAMGiBHour = p.number(line, f, "defaults", "ramGiBHour", true)
	r.GPUHour = p.number(line, f, "defaults", "gpuHour", false)
	p.storageDefault(f, line, &r)
	return r
}

func (p *parser) rules(n *yaml.Node) []Rule {
	if n.ShortTag() == "!!null" {
		return nil // "nodes:" with no rules: every node is priced from the defaults
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "nodes", "must be a list of rules, got %s", describe(n))
		return nil
	}
	rules := make([]Rule, 0, len(n.Content))
	for i, item := range n.Content {
		path := fmt.Sprintf("nodes[%d]", i)
		r := Rule{Line: item.Line}
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(r.Line, path, "must be a mapping with match and hourly, got %s", describe(item))
			continue
		}
		f, _ := p.fields(item, path, "match", "hourly")
		r.Hourly = p.number(r.Line, f, path, "hourly", false)
		if m := f["match"]; m == nil {
			p.errorf(r.Line, path+".match", "required")
		} else {
			before := len(p.problems)
			r.Match = p.match(m, path+".match", "node")
			if len(p.problems) > before {
				r.Match = nil // not the labels the author meant: do not compare with other rules
			}
		}
		for j, earlier := range rules {
			if r.Match != nil && earlier.Match != nil && subset(earlier.Match, r.Match) {
				p.errorf(f["match"].Line, path+".match", "never used: nodes[%d] (line %d) comes first and matches every node this rule matches", j, earlier.Line)
				break
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// match reads a mapping of the labels of a node or a volume (what) to their values.
func (p *parser) match(n *yaml.Node, path, what string) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "must be a mapping of %s labels to values, got %s", what, describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n.Line, path, "must name at least one %s label (%ss no rule matches are priced from defaults)", what, what)
		return nil
	}
	m := make(map[string]string, len(n.Content)/2)
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Value == "" || k.ShortTag() == "!!null" {
			p.errorf(k.Line, path, "label names must be non-empty strings, got %s", describe(k))
			continue
		}
		field := path + "[" + strconv.Quote(k.Value) + "]"
		if line, dup := first[k.Value]; dup {
			p.errorf(k.Line, field, "duplicate key (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		// A label value is compared as written: `spot`, `"true"` and `true` all mean the text.
		if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
			p.errorf(v.Line, field, "must be a label value (a string), got %s", describe(v))
			continue
		}
		m[k.Value] = v.Value
	}
	return m
}

// subset says whether every label of a is in b.
func subset(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
