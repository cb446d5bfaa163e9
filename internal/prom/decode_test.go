package prom

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func TestDecodeMatrix(t *testing.T) {
	const body = `{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"namespace":"shop","pod":"web-0","container":"app","extra":"ignored"},
		 "values":[[1767225600,"1.5"],[1767225720,"NaN"],[1767225780.000,"+Inf"]]},
		{"metric":{"namespace":"shop","pod":"web-1"},"values":[[1767225660,"2e+06"]]}
	],"stats":{"timings":{}}},"warnings":["a warning"],"infos":["an info"]}`
	tab := newTable[containerLabels](1767225600_000, 60_000, 4, 0)
	meta, err := decodeInto(strings.NewReader(body), tab)
	if err != nil {
		t.Fatal(err)
	}
	if meta.status != "success" || len(meta.warnings) != 1 || meta.warnings[0] != "a warning" {
		t.Fatalf("meta = %+v", meta)
	}
	if tab.rows() != 2 {
		t.Fatalf("rows = %d, want 2", tab.rows())
	}
	if tab.labels[0] != (containerLabels{"shop", "web-0", "app"}) {
		t.Errorf("labels[0] = %+v", tab.labels[0])
	}
	if tab.labels[1] != (containerLabels{"shop", "web-1", ""}) {
		t.Errorf("labels[1] = %+v: labels of the previous series leaked", tab.labels[1])
	}
	row := tab.row(0)
	if row[0] != 1.5 || !math.IsNaN(row[1]) || !math.IsNaN(row[2]) || !math.IsInf(row[3], 1) {
		t.Errorf("row 0 = %v", row)
	}
	row = tab.row(1)
	if !math.IsNaN(row[0]) || row[1] != 2e6 || !math.IsNaN(row[2]) || !math.IsNaN(row[3]) {
		t.Errorf("row 1 = %v", row)
	}
}

func TestDecodeVector(t *testing.T) {
	const body = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600.5,"25000"]}]}}`
	tab := newTable[struct{}](1767225600_500, 0, 1, 1)
	if _, err := decodeInto(strings.NewReader(body), tab); err != nil {
		t.Fatal(err)
	}
	if tab.rows() != 1 || tab.at(0, 0) != 25000 {
		t.Fatalf("rows %d, value %v", tab.rows(), tab.values)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		format bool // a malformed answer, not worth retrying
	}{
		{"point off the grid", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1767225630,"1"]]}]}}`, true},
		{"point after the last", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1767229200,"1"]]}]}}`, true},
		{"value not a number", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1767225600,"x"]]}]}}`, true},
		{"scalar result", `{"status":"success","data":{"resultType":"scalar","result":[1767225600,"1"]}}`, true},
		{"truncated", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1767225600,"1"]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := newTable[containerLabels](1767225600_000, 60_000, 60, 0)
			_, err := decodeInto(strings.NewReader(tc.body), tab)
			if err == nil {
				t.Fatal("no error")
			}
			if retryable(err) == tc.format {
				t.Fatalf("retryable(%v) = %v", err, retryable(err))
			}
		})
	}
	// A body cut short by the network is a transient failure.
	tab := newTable[containerLabels](0, 60_000, 1, 0)
	_, err := decodeInto(io.MultiReader(strings.NewReader(`{"status":"succ`), errReader{}), tab)
	if err == nil || !retryable(err) {
		t.Fatalf("read error: %v, retryable %v", err, retryable(err))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestPointListSpacing(t *testing.T) {
	var l pointList
	if err := l.UnmarshalJSON([]byte(` [ [ 1 , "2" ] , [3,"4"] ] `)); err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0] != (point{1000, 2}) || l[1] != (point{3000, 4}) {
		t.Fatalf("points = %v", l)
	}
	if err := l.UnmarshalJSON([]byte(`[]`)); err != nil || len(l) != 0 {
		t.Fatalf("empty: %v %v", l, err)
	}
}
