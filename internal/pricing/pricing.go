// Package pricing is tally's price book: what each node costs per hour, and that price split
// into per-core, per-GiB and per-GPU rates so that allocation can charge containers for what
// they took.
//
// A price book is a YAML file (see Parse for its shape) with a currency, default unit rates
// and an ordered list of node rules matched against node labels. A node's hourly price is the
// price of the first rule whose labels it carries, else its capacity priced at the default
// rates; that price is then split into unit rates in proportion to the default rates, as the
// OpenCost specification's Appendix A does.
//
// The package is pure: no clock, no globals, no environment; Load is its only I/O.
package pricing

import (
	"fmt"

	"github.com/tally-finops/tally/internal/model"
)

// Rates are prices per unit of capacity and hour, in the book's currency, and the default
// price of a GiB of persistent volume per month.
type Rates struct {
	CPUCoreHour, RAMGiBHour, GPUHour float64
	StorageGiBMonth                  float64
	StorageSet                       bool // storageGiBMonth is in the book (else volumes no rule matches have no price)
}

// Rule prices the nodes carrying all of its labels.
type Rule struct {
	Line   int               // line of the rule in the file
	Match  map[string]string // node labels that must all match
	Hourly float64
}

// Book is a parsed, validated price book.
type Book struct {
	Currency string // ISO 4217 code, e.g. USD
	Defaults Rates  // price nodes no rule matches, and weigh every node's unit rates
	Nodes    []Rule // first match wins
	Volumes  []VolumeRule
}

// SourceDefaults is the NodePrice.Source of a node no rule matched.
const SourceDefaults = "defaults"

const bytesPerGiB = 1 << 30

// Price returns what node n costs per hour and that price split into unit rates.
//
// The hourly price P is the Hourly of the first rule whose Match labels all equal labels of
// n, else cores×CPUCoreHour + GiB×RAMGiBHour + GPUs×GPUHour of the default rates, counting
// the node's capacity (not its allocatable resources). P is split in proportion to the
// default rates: with weights w_cpu = cores×CPUCoreHour, w_ram = GiB×RAMGiBHour,
// w_gpu = GPUs×GPUHour and W their sum, CPUCoreHourCost = P×w_cpu/W/cores, and so on, so that
// cores×CPUCoreHourCost + GiB×RAMGiBHourCost + GPUs×GPUHourCost = P. A resource the node
// does not have gets a rate of 0.
//
// Cluster is copied from n; the caller sets Hour.
func (b *Book) Price(n model.Node) model.NodePrice {
	p := model.NodePrice{
		Cluster:      n.Cluster,
		Node:         n.Name,
		InstanceType: n.InstanceType,
		CapacityType: n.CapacityType,
		Currency:     b.Currency,
		Source:       SourceDefaults,
	}
	cores := nonNegative(n.CPUCapacityCores)
	gib := float64(n.MemoryCapacityBytes) / bytesPerGiB
	gpus := nonNegative(n.GPUCapacity)

	wCPU := cores * b.Defaults.CPUCoreHour
	wRAM := gib * b.Defaults.RAMGiBHour
	wGPU := gpus * b.Defaults.GPUHour
	total := wCPU + wRAM + wGPU

	p.HourlyCost = total
	if i := b.match(n.Labels); i >= 0 {
		r := b.Nodes[i]
		p.HourlyCost = r.Hourly
		p.Source = fmt.Sprintf("rule %d (line %d)", i+1, r.Line)
	}
	if total <= 0 {
		// No capacity to spread the price over (or a hand-made book without rates):
		// the node has a price but no unit rates.
		return p
	}
	if cores > 0 {
		p.CPUCoreHourCost = p.HourlyCost * wCPU / total / cores
	}
	if gib > 0 {
		p.RAMGiBHourCost = p.HourlyCost * wRAM / total / gib
	}
	if gpus > 0 {
		p.GPUHourCost = p.HourlyCost * wGPU / total / gpus
	}
	return p
}

// match returns the index of the first rule whose labels all equal the node's, or -1.
func (b *Book) match(labels map[string]string) int {
rules:
	for i, r := range b.Nodes {
		for k, want := range r.Match {
			if got, ok := labels[k]; !ok || got != want {
				continue rules
			}
		}
		return i
	}
	return -1
}

func nonNegative(x float64) float64 {
	if x > 0 {
		return x
	}
	return 0
}
