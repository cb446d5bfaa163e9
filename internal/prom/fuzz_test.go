package prom

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecode feeds the HTTP API decoder truncated JSON, NaN, ±Inf, huge numbers, wrong types
// and missing fields: it never panics, an error is one line, and a decoded table has every
// series on the query's grid.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"node":"n1","resource":"cpu"},"values":[[0,"1"],[60,"2"]]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"node":"n1"},"values":[[0,"NaN"],[60,"+Inf"],[120,"-Inf"],[180,"1e308"]]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[240,"3"]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"node":1},"values":[[0,1]]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"node":"n1"},"values":[[0,"1"],[60,`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"values":[[30,"1"]]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"node":"n1"},"values":[[99999999999999,"1"]]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","isPartial":true,"warnings":["partial"],"data":{"resultType":"matrix","result":[]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":null}}`,
		`{"status":"success","data":null}`, `{}`, `[]`, `null`, ``, `{"status":`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab := newTable[nodeResourceLabels](0, 60000, 5, 2)
		_, err := decodeInto(bytes.NewReader(data), tab)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is more than one line", err)
			}
			return
		}
		if len(tab.values) != tab.rows()*tab.points {
			t.Fatalf("%d series but %d values for %d points each", tab.rows(), len(tab.values), tab.points)
		}
	})
}

// A JSON string where an object belongs is named on one line, quoted: before, a newline in
// it split the error over two lines.
func TestDecodeErrorIsOneLine(t *testing.T) {
	tab := newTable[nodeResourceLabels](0, 60000, 1, 0)
	_, err := decodeInto(strings.NewReader(`"line one\nline two"`), tab)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `"line one\nline two"`) {
		t.Errorf("error %q, want one line quoting the string", err)
	}
}
