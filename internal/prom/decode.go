package prom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// table is the answer of one query on a fixed grid of evaluation times: one row per series,
// every row the same length, all rows in one flat slice. Row i holds the series' value at
// start + j·step in values[i·points + j], NaN where the series has no value. An instant
// query is a table of one point.
//
// L is a struct of the labels tally reads from that query (json tags name them); the
// queries aggregate every other label away, so L is all there is.
type table[L any] struct {
	labels []L
	values []float64
	points int
	start  int64 // milliseconds since the epoch of point 0
	step   int64 // milliseconds between points
}

// maxPrealloc bounds the values a table reserves up front (32 MiB): the series hint is an
// estimate, and a wrong one must not cost more than that.
const maxPrealloc = 1 << 22

// newTable returns an empty table for points evaluation times from start (Unix
// milliseconds) every step milliseconds, with room for about seriesHint series.
func newTable[L any](start, step int64, points, seriesHint int) *table[L] {
	points = max(points, 1)
	seriesHint = min(max(seriesHint, 0), maxPrealloc/points)
	return &table[L]{
		labels: make([]L, 0, seriesHint),
		values: make([]float64, 0, seriesHint*points),
		points: points,
		start:  start,
		step:   max(step, 1),
	}
}

// rows is the number of series.
func (t *table[L]) rows() int { return len(t.labels) }

// row returns the values of series i.
func (t *table[L]) row(i int) []float64 { return t.values[i*t.points : (i+1)*t.points] }

// at returns series i's value at point j (NaN when it has none).
func (t *table[L]) at(i, j int) float64 { return t.values[i*t.points+j] }

// add appends a series and its points. A point off the table's grid is a malformed answer.
func (t *table[L]) add(labels L, pts []point) error {
	t.labels = append(t.labels, labels)
	base := len(t.values)
	for range t.points {
		t.values = append(t.values, math.NaN())
	}
	for _, p := range pts {
		off := p.ms - t.start
		j := off / t.step
		if off < 0 || off%t.step != 0 || j >= int64(t.points) {
			return &formatError{fmt.Sprintf("point at %s is not one of the query's %d steps", strconv.FormatFloat(float64(p.ms)/1000, 'f', -1, 64), t.points)}
		}
		t.values[base+int(j)] = p.v
	}
	return nil
}

// formatError is an answer that is not what the Prometheus HTTP API documents. Asking again
// does not help, so it is not retried.
type formatError struct{ msg string }

func (e *formatError) Error() string { return "malformed prometheus response: " + e.msg }

// point is one sample of a series as the HTTP API sends it: [unix seconds, "value"].
type point struct {
	ms int64
	v  float64
}

// pointList decodes both a range query's "values" ([[t,"v"],...]) and an instant query's
// "value" ([t,"v"]). It is parsed by hand: encoding/json would go through reflection for
// every point of every series, and a large cluster's hour is millions of them.
type pointList []point

// UnmarshalJSON implements json.Unmarshaler. It reuses the list's storage.
func (l *pointList) UnmarshalJSON(b []byte) error {
	pts := (*l)[:0]
	i := skipSpace(b, 0)
	if i < len(b) && b[i] == 'n' { // null
		*l = pts
		return nil
	}
	if i >= len(b) || b[i] != '[' {
		return &formatError{"points are not an array"}
	}
	j := skipSpace(b, i+1)
	switch {
	case j < len(b) && b[j] == ']': // no points
	case j < len(b) && b[j] == '[': // a range query's list of points
		for {
			p, next, err := parsePoint(b, j)
			if err != nil {
				return err
			}
			pts = append(pts, p)
			j = skipSpace(b, next)
			if j < len(b) && b[j] == ',' {
				j = skipSpace(b, j+1)
				continue
			}
			if j < len(b) && b[j] == ']' {
				break
			}
			return &formatError{"points list is not closed"}
		}
	default: // an instant query's single point
		p, _, err := parsePoint(b, i)
		if err != nil {
			return err
		}
		pts = append(pts, p)
	}
	*l = pts
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// parsePoint parses [1767225600.123,"0.25"] starting at b[i] == '[' and returns the index
// after its closing bracket.
func parsePoint(b []byte, i int) (point, int, error) {
	var p point
	if i >= len(b) || b[i] != '[' {
		return p, i, &formatError{"point is not an array"}
	}
	i = skipSpace(b, i+1)
	// Timestamp: seconds with up to three decimals, as Prometheus formats them.
	var sec, frac int64
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
		digits++
	}
	if digits == 0 || digits > 12 {
		return p, i, &formatError{"point has no valid timestamp"}
	}
	if i < len(b) && b[i] == '.' {
		i++
		scale := int64(100)
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			frac += int64(b[i]-'0') * scale
			scale /= 10
		}
	}
	p.ms = sec*1000 + frac
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ',' {
		return p, i, &formatError{"point has no value"}
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return p, i, &formatError{"point value is not a string"}
	}
	end := i + 1
	for end < len(b) && b[end] != '"' {
		end++
	}
	if end >= len(b) {
		return p, i, &formatError{"point value is not closed"}
	}
	v, err := strconv.ParseFloat(string(b[i+1:end]), 64) // "NaN", "+Inf" and "-Inf" included
	if err != nil {
		return p, i, &formatError{fmt.Sprintf("point value %q is not a number", b[i+1:end])}
	}
	p.v = v
	i = skipSpace(b, end+1)
	if i >= len(b) || b[i] != ']' {
		return p, i, &formatError{"point is not closed"}
	}
	return p, i + 1, nil
}

// seriesJSON is one element of a result: labels and either points or a single point.
type seriesJSON[L any] struct {
	Metric L         `json:"metric"`
	Values pointList `json:"values"`
	Value  pointList `json:"value"`
}

// apiBody is what the HTTP API says besides the result.
type apiBody struct {
	status    string
	errorType string
	errorMsg  string
	warnings  []string
	infos     []string // Prometheus 3's informational annotations
	partial   bool     // VictoriaMetrics' isPartial: some storage nodes did not answer
}

// decodeInto reads an HTTP API response from r as a stream, series by series, appending each
// series to t: memory holds one series' JSON at a time, never the whole body.
func decodeInto[L any](r io.Reader, t *table[L]) (apiBody, error) {
	var body apiBody
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return body, err
	}
	for dec.More() {
		key, err := readKey(dec)
		if err != nil {
			return body, err
		}
		switch key {
		case "status":
			err = dec.Decode(&body.status)
		case "errorType":
			err = dec.Decode(&body.errorType)
		case "error":
			err = dec.Decode(&body.errorMsg)
		case "warnings":
			var w []string
			err = dec.Decode(&w)
			body.warnings = append(body.warnings, w...)
		case "infos":
			var w []string
			err = dec.Decode(&w)
			body.infos = append(body.infos, w...)
		case "isPartial": // before or after "data": the table is used only after the whole body
			var p *bool
			err = dec.Decode(&p)
			body.partial = body.partial || (p != nil && *p)
		case "data":
			err = decodeData(dec, t)
		default: // "stats", "trace" and whatever later versions add
			err = dec.Decode(&json.RawMessage{})
		}
		if err != nil {
			return body, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return body, err
	}
	return body, nil
}

func decodeData[L any](dec *json.Decoder, t *table[L]) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "data": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &formatError{"data is not an object"}
	}
	for dec.More() {
		key, err := readKey(dec)
		if err != nil {
			return err
		}
		switch key {
		case "resultType":
			var rt string
			if err := dec.Decode(&rt); err != nil {
				return err
			}
			if rt != "matrix" && rt != "vector" {
				return &formatError{fmt.Sprintf("result type %q, want matrix or vector", rt)}
			}
		case "result":
			if err := decodeResult(dec, t); err != nil {
				return err
			}
		default: // "stats"
			if err := dec.Decode(&json.RawMessage{}); err != nil {
				return err
			}
		}
	}
	return expectDelim(dec, '}')
}

func decodeResult[L any](dec *json.Decoder, t *table[L]) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	var s seriesJSON[L]
	var zero L
	for dec.More() {
		s.Metric = zero // absent labels must not keep the previous series' values
		s.Values, s.Value = s.Values[:0], s.Value[:0]
		if err := dec.Decode(&s); err != nil {
			return err
		}
		pts := s.Values
		if len(pts) == 0 {
			pts = s.Value
		}
		if err := t.add(s.Metric, pts); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

func readKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", &formatError{fmt.Sprintf("unexpected %s where an object key belongs", describeToken(tok))}
	}
	return key, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return &formatError{fmt.Sprintf("unexpected %s, want %v", describeToken(tok), want)}
	}
	return nil
}

// describeToken shows a JSON token in an error on one short line: a string quoted (a
// newline in it must not break the message) and cut to 40 bytes.
func describeToken(tok json.Token) string {
	s, ok := tok.(string)
	if !ok {
		return fmt.Sprint(tok)
	}
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "…"
	}
	return strconv.Quote(s)
}
