package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tally-finops/tally/internal/rightsizing"
)

// FormatYAML is kubectl patches: strategic merge patches in YAML, one document per workload.
// Only the rightsizing and QoS renderers write it.
const FormatYAML = "yaml"

// CheckRightsizingFormat reports whether Rightsizing.Render can write format.
func CheckRightsizingFormat(format string) error {
	switch format {
	case FormatTable, FormatCSV, FormatJSON, FormatYAML:
		return nil
	}
	return fmt.Errorf("unknown format %q (want table, csv, json or yaml)", format)
}

// Rightsizing says how to render rightsizing recommendations.
type Rightsizing struct {
	Cluster  string // shown in the table's title; a recommendation without a cluster gets it
	Window   Window // the window the recommendations were computed from, for the title
	Currency string // ISO 4217 code of the savings; a recommendation without one gets it
	// Top limits the table to its first Top rows (all when Top ≤ 0); its totals still cover
	// every recommendation. CSV, JSON and YAML always hold every recommendation.
	Top int
}

// Render writes recs, in the order given (rightsizing.Sort's: by savings), as format:
//
//   - table: one line per container with current → recommended values, monthly savings,
//     risk and flags, a TOTAL line, then the evidence and risk note of each row, numbered.
//     CPU below one core is in millicores rounded up ("231m"), memory in Mi rounded up or Gi
//     ("460Mi", "1.5Gi"); "-" is an unset request, "none" an unset limit, "?" a value
//     insufficient data could not give.
//   - csv: a header row, then one row per recommendation in cores, bytes and the currency's
//     units; an empty cell is an unset value; flags are joined with ";".
//   - json: an array of objects; unset values are null, flags always an array.
//   - yaml: strategic merge patches for `kubectl patch`, one document per workload (see
//     writePatches); recommendations without values are listed in comments.
//
// In CSV and JSON cores and amounts are rounded to 6 decimals, bytes to whole bytes.
func (r Rightsizing) Render(w io.Writer, format string, recs []rightsizing.Recommendation) error {
	switch format {
	case FormatTable:
		return r.table(w, recs)
	case FormatCSV:
		return r.csv(w, recs)
	case FormatJSON:
		return r.json(w, recs)
	case FormatYAML:
		return r.yaml(w, recs)
	}
	return CheckRightsizingFormat(format)
}

type resourcesJSON struct {
	CPURequest    *float64 `json:"cpuRequest"`
	CPULimit      *float64 `json:"cpuLimit"`
	MemoryRequest *float64 `json:"memoryRequest"`
	MemoryLimit   *float64 `json:"memoryLimit"`
}

func resourcesOf(res rightsizing.Resources) resourcesJSON {
	return resourcesJSON{
		CPURequest: roundPtr(res.CPURequest, 6), CPULimit: roundPtr(res.CPULimit, 6),
		MemoryRequest: roundPtr(res.MemoryRequest, 0), MemoryLimit: roundPtr(res.MemoryLimit, 0),
	}
}

type recommendationJSON struct {
	Cluster        string        `json:"cluster"`
	Namespace      string        `json:"namespace"`
	WorkloadKind   string        `json:"workloadKind"`
	Workload       string        `json:"workload"`
	Container      string        `json:"container"`
	Current        resourcesJSON `json:"current"`
	Recommended    resourcesJSON `json:"recommended"`
	MonthlySavings float64       `json:"monthlySavings"`
	Currency       string        `json:"currency"`
	Risk           string        `json:"risk"`
	RiskNote       string        `json:"riskNote"`
	Evidence       string        `json:"evidence"`
	Flags          []string      `json:"flags"`
}

func (r Rightsizing) json(w io.Writer, recs []rightsizing.Recommendation) error {
	out := make([]recommendationJSON, 0, len(recs))
	for i := range recs {
		rec := &recs[i]
		flags := rec.Flags
		if flags == nil {
			flags = []string{}
		}
		out = append(out, recommendationJSON{
			Cluster: cmp.Or(rec.Cluster, r.Cluster), Namespace: rec.Namespace,
			WorkloadKind: rec.Workload.Kind, Workload: rec.Workload.Name, Container: rec.Container,
			Current: resourcesOf(rec.Current), Recommended: resourcesOf(rec.Recommended),
			MonthlySavings: round(rec.MonthlySavings, 6), Currency: cmp.Or(rec.Currency, r.Currency),
			Risk: rec.Risk, RiskNote: rec.RiskNote, Evidence: rec.Evidence, Flags: flags,
		})
	}
	return writeJSON(w, "rightsizing recommendations", out)
}

func writeJSON(w io.Writer, what string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s as json: %w", what, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// RightsizingCSVHeader is the header row of the rightsizing CSV.
var RightsizingCSVHeader = []string{
	"cluster", "namespace", "workload_kind", "workload", "container",
	"current_cpu_request_cores", "current_cpu_limit_cores", "current_memory_request_bytes", "current_memory_limit_bytes",
	"recommended_cpu_request_cores", "recommended_cpu_limit_cores", "recommended_memory_request_bytes", "recommended_memory_limit_bytes",
	"monthly_savings", "currency", "risk", "flags", "evidence", "risk_note",
}

func (r Rightsizing) csv(w io.Writer, recs []rightsizing.Recommendation) error {
	rows := make([][]string, 0, len(recs))
	for i := range recs {
		rec := &recs[i]
		row := []string{cmp.Or(rec.Cluster, r.Cluster), rec.Namespace, rec.Workload.Kind, rec.Workload.Name, rec.Container}
		row = append(row, resourceCells(rec.Current)...)
		row = append(row, resourceCells(rec.Recommended)...)
		row = append(row, number(rec.MonthlySavings, 6), cmp.Or(rec.Currency, r.Currency), rec.Risk,
			strings.Join(rec.Flags, ";"), rec.Evidence, rec.RiskNote)
		rows = append(rows, row)
	}
	return writeCSV(w, "rightsizing recommendations", RightsizingCSVHeader, rows)
}

// resourceCells are the CSV cells of res: cores, cores, bytes, bytes; "" when unset.
func resourceCells(res rightsizing.Resources) []string {
	return []string{cell(res.CPURequest, 6), cell(res.CPULimit, 6), cell(res.MemoryRequest, 0), cell(res.MemoryLimit, 0)}
}

func writeCSV(w io.Writer, what string, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write %s as csv: %w", what, err)
	}
	if err := cw.WriteAll(rows); err != nil { // WriteAll flushes
		return fmt.Errorf("write %s as csv: %w", what, err)
	}
	return nil
}

func (r Rightsizing) table(w io.Writer, recs []rightsizing.Recommendation) error {
	var b strings.Builder
	currency := r.Currency
	if currency == "" && len(recs) > 0 {
		currency = recs[0].Currency
	}
	b.WriteString(title("Rightsizing", r.Cluster, r.Window))
	if currency != "" {
		fmt.Fprintf(&b, ", savings in %s per month", currency)
	}
	b.WriteString("\n\n")
	if len(recs) == 0 {
		b.WriteString("No recommendations.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}

	shown := recs
	if r.Top > 0 && len(recs) > r.Top {
		shown = recs[:r.Top]
	}
	multi := false // a CLUSTER column when a row is of another cluster than the title's
	for _, rec := range recs {
		multi = multi || cmp.Or(rec.Cluster, r.Cluster) != r.Cluster
	}
	header := []string{"#", "NAMESPACE", "WORKLOAD", "CONTAINER", "CPU REQUEST", "CPU LIMIT", "MEMORY", "MEM LIMIT", "SAVINGS/MO", "RISK", "FLAGS"}
	right := map[int]bool{0: true, 8: true}
	if multi {
		header = append([]string{"CLUSTER"}, header...)
		right = map[int]bool{1: true, 9: true}
	}
	rows := make([][]string, 0, len(shown))
	for i := range shown {
		rec := &shown[i]
		none := rec.Recommended == (rightsizing.Resources{})
		row := []string{strconv.Itoa(i + 1), nameCell(rec.Namespace), nameCell(workloadName(rec.Workload.Kind, rec.Workload.Name)), nameCell(rec.Container),
			change(rec.Current.CPURequest, rec.Recommended.CPURequest, cpuText, "-", none),
			change(rec.Current.CPULimit, rec.Recommended.CPULimit, cpuText, "none", none),
			change(rec.Current.MemoryRequest, rec.Recommended.MemoryRequest, memoryText, "-", none),
			change(rec.Current.MemoryLimit, rec.Recommended.MemoryLimit, memoryText, "none", none),
			money(rec.MonthlySavings), orDash(rec.Risk), orDash(strings.Join(rec.Flags, ","))}
		if multi {
			row = append([]string{nameCell(cmp.Or(rec.Cluster, r.Cluster))}, row...)
		}
		rows = append(rows, row)
	}
	writeAligned(&b, header, rows, right)

	var high, medium, insufficient int
	for _, rec := range recs {
		switch rec.Risk {
		case rightsizing.RiskHigh:
			high++
		case rightsizing.RiskMedium:
			medium++
		}
		for _, f := range rec.Flags {
			if f == rightsizing.FlagInsufficientData {
				insufficient++
			}
		}
	}
	fmt.Fprintf(&b, "\nTOTAL: %s, savings %s%s per month; risk: %d high, %d medium; %d with insufficient data\n",
		count(len(recs), "container"), money(rightsizing.Totals(recs)), prefixed(" ", currency), high, medium, insufficient)
	if len(shown) < len(recs) {
		fmt.Fprintf(&b, "(top %d of %d; totals cover all %d)\n", len(shown), len(recs), len(recs))
	}

	b.WriteString("\nEvidence and risk notes:\n")
	width := len(strconv.Itoa(len(shown)))
	for i, rec := range shown {
		num := pad(strconv.Itoa(i+1), width, true)
		fmt.Fprintf(&b, "%s. %s\n", num, oneLine(rec.Evidence))
		if rec.RiskNote != "" {
			fmt.Fprintf(&b, "%s  risk %s: %s\n", strings.Repeat(" ", width), rec.Risk, oneLine(rec.RiskNote))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// change is "current → recommended" for the table; unset is how an unset value reads ("-"
// or "none"), and "?" stands for the recommended value when noRec (insufficient data).
func change(cur, rec *float64, format func(float64) string, unset string, noRec bool) string {
	text := func(p *float64) string {
		if p == nil {
			return unset
		}
		return format(*p)
	}
	if noRec {
		return text(cur) + " → ?"
	}
	return text(cur) + " → " + text(rec)
}

func (r Rightsizing) yaml(w io.Writer, recs []rightsizing.Recommendation) error {
	head := []string{title("Rightsizing patches", r.Cluster, r.Window)}
	var patches []workloadPatch
	index := map[workloadKey]int{}
	for i := range recs {
		rec := &recs[i]
		k := workloadKey{cmp.Or(rec.Cluster, r.Cluster), rec.Namespace, rec.Workload.Kind, rec.Workload.Name}
		at, ok := index[k]
		if !ok {
			at = len(patches)
			index[k] = at
			patches = append(patches, workloadPatch{key: k})
		}
		c := containerPatch{name: rec.Container}
		note := fmt.Sprintf("%s%s per month, risk %s", money(rec.MonthlySavings), prefixed(" ", cmp.Or(rec.Currency, r.Currency)), orDash(rec.Risk))
		if rec.RiskNote != "" {
			note += ": " + rec.RiskNote
		}
		c.comments = append(c.comments, note, "evidence: "+rec.Evidence)
		c.setPair(&c.cpuRequest, &c.cpuLimit, rec.Current.CPULimit, rec.Recommended.CPURequest, rec.Recommended.CPULimit, cpuQuantity, "CPU")
		c.setPair(&c.memoryRequest, &c.memoryLimit, rec.Current.MemoryLimit, rec.Recommended.MemoryRequest, rec.Recommended.MemoryLimit, memoryQuantity, "memory")
		if rec.Recommended == (rightsizing.Resources{}) {
			c.comments = append(c.comments, "not patched: no recommended values (insufficient data)")
		}
		patches[at].containers = append(patches[at].containers, c)
	}
	return writePatches(w, head, patches)
}

// setPair sets a container's request and limit of one resource to rec and recLimit, in
// the quantity format; a recommended limit that is unset while the current one is set
// becomes null, which a strategic merge patch deletes.
func (c *containerPatch) setPair(req, limit *string, curLimit, rec, recLimit *float64, quantity func(float64) string, resource string) {
	if rec != nil {
		*req = quantity(*rec)
	}
	switch {
	case recLimit != nil:
		*limit = quantity(*recLimit)
	case curLimit != nil && rec != nil:
		*limit = "null"
		c.comments = append(c.comments, fmt.Sprintf("limits.%s: null removes the current %s limit %s",
			strings.ToLower(resource), resource, quantity(*curLimit)))
	}
}

// Formatting shared by the rightsizing, backtest and QoS renderers.

const (
	mib = 1 << 20
	gib = 1 << 30
	// maxNameWidth is where the table shortens a namespace, workload or container name.
	maxNameWidth = 40
)

// millicores is cores in whole millicores, rounded up (a value within 1e-6 of a
// millicore is that millicore, so 0.4 is 400m whatever float64 makes of it).
func millicores(cores float64) int64 { return int64(math.Ceil(cores*1000 - 1e-6)) }

// mebibytes is bytes in whole Mi, rounded up.
func mebibytes(bytes float64) int64 { return int64(math.Ceil(bytes/mib - 1e-9)) }

// cpuQuantity is a Kubernetes CPU quantity in millicores, rounded up: "231m".
func cpuQuantity(cores float64) string { return strconv.FormatInt(millicores(cores), 10) + "m" }

// memoryQuantity is a Kubernetes memory quantity in Mi, rounded up: "460Mi".
func memoryQuantity(bytes float64) string { return strconv.FormatInt(mebibytes(bytes), 10) + "Mi" }

// cpuText is cores for people: below one core millicores rounded up ("231m"), else cores
// with up to 2 decimals ("1.5").
func cpuText(cores float64) string {
	if millicores(cores) < 1000 {
		return cpuQuantity(cores)
	}
	return strconv.FormatFloat(round(cores, 2), 'f', -1, 64)
}

// memoryText is bytes for people: below 1Gi Mi rounded up ("460Mi"), else Gi with up to 2
// decimals ("1.5Gi").
func memoryText(bytes float64) string {
	if mebibytes(bytes) < 1024 {
		return memoryQuantity(bytes)
	}
	return strconv.FormatFloat(round(bytes/gib, 2), 'f', -1, 64) + "Gi"
}

func valueText(p *float64, format func(float64) string) string {
	if p == nil {
		return "?"
	}
	return format(*p)
}

func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

func round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // not -0
	}
	return r
}

func roundPtr(p *float64, decimals int) *float64 {
	if p == nil {
		return nil
	}
	v := round(*p, decimals)
	return &v
}

// number is v rounded to decimals, as a plain decimal number.
func number(v float64, decimals int) string {
	return strconv.FormatFloat(round(v, decimals), 'f', -1, 64)
}

// cell is a CSV cell: number(*p), or "" when unset.
func cell(p *float64, decimals int) string {
	if p == nil {
		return ""
	}
	return number(*p, decimals)
}

func workloadName(kind, name string) string {
	if kind == "" {
		return name
	}
	return kind + "/" + name
}

func nameCell(s string) string { return orDash(shorten(oneLine(s), maxNameWidth)) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// oneLine replaces line breaks, which would break a table line or a YAML comment.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return groupThousands(n) + " " + noun + "s"
}

// groupThousands writes n with comma thousands separators, for tables: 20160 → "20,160".
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + groupThousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// title is a table's first line: "What for cluster C, WINDOW".
func title(what, cluster string, w Window) string {
	s := what
	if cluster != "" {
		s += " for cluster " + cluster
	}
	if !w.From.IsZero() || !w.To.IsZero() {
		s += ", " + windowText(w)
	}
	return s
}

// windowText is "2026-03-01T00:00:00Z to 2026-03-15T00:00:00Z (14d)".
func windowText(w Window) string {
	length := time.Duration(w.Hours() * float64(time.Hour))
	var l string
	switch {
	case length > 0 && length%(24*time.Hour) == 0:
		l = strconv.FormatInt(int64(length/(24*time.Hour)), 10) + "d"
	case length > 0 && length%time.Hour == 0:
		l = strconv.FormatInt(int64(length/time.Hour), 10) + "h"
	default:
		l = length.String()
	}
	return w.From.UTC().Format(time.RFC3339) + " to " + w.To.UTC().Format(time.RFC3339) + " (" + l + ")"
}

// writeAligned writes header and rows as columns separated by gap spaces, right-aligned
// where right says so; the last column is not padded and no line ends in a space.
func writeAligned(b *strings.Builder, header []string, rows [][]string, right map[int]bool) {
	widths := make([]int, len(header))
	for _, line := range append([][]string{header}, rows...) {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, line := range append([][]string{header}, rows...) {
		var l strings.Builder
		for i, c := range line {
			if i > 0 {
				l.WriteString(strings.Repeat(" ", gap))
			}
			if i == len(line)-1 && !right[i] {
				l.WriteString(c)
				continue
			}
			l.WriteString(pad(c, widths[i], right[i]))
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
}
