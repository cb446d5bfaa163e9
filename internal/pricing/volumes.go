package pricing

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/tally-finops/tally/internal/model"
)

// VolumeRule prices the persistent volumes that meet all of its conditions; an empty
// condition holds for every volume.
type VolumeRule struct {
	Line         int // line of the rule in the file
	StorageClass string
	Provisioner  string
	Type         string            // the StorageClass's parameters.type
	Labels       map[string]string // PV labels that must all match, e.g. the zone
	GiBMonth     float64
}

// holds reports whether volume v meets every condition of r.
func (r *VolumeRule) holds(v *model.Volume) bool {
	if r.StorageClass != "" && r.StorageClass != v.StorageClass ||
		r.Provisioner != "" && r.Provisioner != v.Provisioner ||
		r.Type != "" && r.Type != v.Type {
		return false
	}
	return subset(r.Labels, v.Labels)
}

// covers reports whether every volume r2 matches is matched by r (r comes first, r2 is then
// never used).
func (r *VolumeRule) covers(r2 *VolumeRule) bool {
	same := func(a, b string) bool { return a == "" || a == b }
	return same(r.StorageClass, r2.StorageClass) && same(r.Provisioner, r2.Provisioner) &&
		same(r.Type, r2.Type) && subset(r.Labels, r2.Labels)
}

// PriceVolume returns what volume v costs per GiB of capacity and hour: the GiBMonth of the
// first volume rule it meets, else defaults.storageGiBMonth, each ÷ model.HoursPerMonth. ok is false
// when neither applies (the book sets no storage price): the volume has no price.
//
// Cluster and Volume are copied from v; the caller sets Hour.
func (b *Book) PriceVolume(v model.Volume) (p model.VolumePrice, ok bool) {
	p = model.VolumePrice{Cluster: v.Cluster, Volume: v.Name, Currency: b.Currency}
	for i := range b.Volumes {
		if r := &b.Volumes[i]; r.holds(&v) {
			p.GiBHourCost = r.GiBMonth / model.HoursPerMonth
			p.Source = fmt.Sprintf("volume rule %d (line %d)", i+1, r.Line)
			return p, true
		}
	}
	if !b.Defaults.StorageSet {
		return p, false
	}
	p.GiBHourCost = b.Defaults.StorageGiBMonth / model.HoursPerMonth
	p.Source = SourceDefaults
	return p, true
}

// volumeRules reads the volumes: list.
func (p *parser) volumeRules(n *yaml.Node) []VolumeRule {
	if n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "volumes", "must be a list of rules, got %s", describe(n))
		return nil
	}
	rules := make([]VolumeRule, 0, len(n.Content))
	usable := make([]bool, 0, len(n.Content)) // conditions read without a problem
	for i, item := range n.Content {
		path := fmt.Sprintf("volumes[%d]", i)
		r := VolumeRule{Line: item.Line}
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(r.Line, path, "must be a mapping with match and gibMonth, got %s", describe(item))
			continue
		}
		f, _ := p.fields(item, path, "match", "gibMonth")
		r.GiBMonth = p.number(r.Line, f, path, "gibMonth", false)
		ok := false
		if m := f["match"]; m == nil {
			p.errorf(r.Line, path+".match", "required")
		} else {
			before := len(p.problems)
			p.volumeMatch(m, path+".match", &r)
			// A rule with a bad condition is not what the author meant: it is not compared.
			ok = len(p.problems) == before
			for j := range rules {
				if ok && usable[j] && rules[j].covers(&r) {
					p.errorf(m.Line, path+".match", "never used: volumes[%d] (line %d) comes first and matches every volume this rule matches", j, rules[j].Line)
					break
				}
			}
		}
		rules, usable = append(rules, r), append(usable, ok)
	}
	return rules
}

// volumeMatch reads a volume rule's conditions into r.
func (p *parser) volumeMatch(n *yaml.Node, path string, r *VolumeRule) {
	const want = "storageClass, provisioner, type or labels"
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "must be a mapping of %s, got %s", want, describe(n))
		return
	}
	f, _ := p.fields(n, path, "storageClass", "provisioner", "type", "labels")
	if len(f) == 0 && len(n.Content) == 0 {
		p.errorf(n.Line, path, "must name at least one of %s (volumes no rule matches are priced from defaults.storageGiBMonth)", want)
		return
	}
	text := func(key string) string {
		v := f[key]
		if v == nil {
			return ""
		}
		if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" || v.Value == "" {
			p.errorf(v.Line, join(path, key), "must be a non-empty string, got %s", describe(v))
			return ""
		}
		return v.Value
	}
	r.StorageClass, r.Provisioner, r.Type = text("storageClass"), text("provisioner"), text("type")
	if v := f["labels"]; v != nil {
		r.Labels = p.match(v, join(path, "labels"), "volume")
	}
}

// storageDefault reads the optional defaults.storageGiBMonth into r.
func (p *parser) storageDefault(f map[string]*yaml.Node, line int, r *Rates) {
	if f["storageGiBMonth"] == nil {
		return
	}
	r.StorageGiBMonth = p.number(line, f, "defaults", "storageGiBMonth", false)
	r.StorageSet = true
}
