package model

import "time"

// BillLine is one line of a cloud bill in FOCUS (the FinOps Foundation's format), as imported:
// a charge for one resource (or none) over one charge period. Costs are in Currency; credits
// and adjustments are negative or positive lines like any other.
type BillLine struct {
	Source                 string // the bill's origin, e.g. "AWS/1234567890123" (provider/billing account)
	Line                   int    // the line of the file it came from (the header is line 1)
	BillingPeriodStart     time.Time
	BillingPeriodEnd       time.Time
	ChargePeriodStart      time.Time
	ChargePeriodEnd        time.Time
	Provider               string // ProviderName
	BillingAccountID       string
	SubAccountID           string
	Service                string // ServiceName
	ChargeCategory         string // Usage, Purchase, Tax, Credit, Adjustment
	PricingCategory        string // Standard, Dynamic, Committed, Other, or ""
	ResourceID             string
	ResourceType           string
	Region                 string // RegionId
	AvailabilityZone       string
	SkuID                  string
	CommitmentDiscountID   string
	CommitmentDiscountType string
	BilledCost             float64
	EffectiveCost          float64 // amortised, discounts included
	ListCost               float64
	ConsumedQuantity       float64
	ConsumedUnit           string
	Currency               string
	Tags                   map[string]string
}

// BillImport is what one import of a bill did for one source and billing period: the lines
// it holds and a checksum of them, so that importing the same data again changes nothing
// and a later export of the period replaces it.
type BillImport struct {
	Source             string
	BillingPeriodStart time.Time
	ImportID           uint64
	Checksum           string
	File               string
	Lines              int
	BilledCost         float64
	ImportedAt         time.Time
}

// BillCost is the sum of a group of bill lines.
type BillCost struct {
	Name          string
	Currency      string
	BilledCost    float64
	EffectiveCost float64
	ListCost      float64
}

// BillGroup is the lines of one source and billing period: what one import replaces.
type BillGroup struct {
	Source             string
	BillingPeriodStart time.Time
	Lines              []BillLine
	// Checksum identifies the group's content (not its file's bytes), so the same export
	// compressed, or with its lines in another order, is the same import.
	Checksum string
}
