//go:build chdb

package sql_test

import (
	"testing"
	"time"
)

// The namespace snapshots and their read, on conformance_chdb_test.go's times.

// namespace row: cluster, ts, namespace, label_keys, label_values
var (
	nsShopH10      = []any{"c1", h10, "shop", []string{"team"}, []string{"checkout"}}
	nsShopH11      = []any{"c1", h11, "shop", []string{"env", "team"}, []string{"prod", "payments"}}
	nsShopH11Again = []any{"c1", h11, "shop", []string{"env", "team"}, []string{"prod", "payments-fixed"}} // the 11:00 snapshot re-collected
	nsShopH12      = []any{"c1", h12, "shop", []string{"team"}, []string{"later"}}
	nsBatchH10     = []any{"c1", h10, "batch", none, none} // no labels; deleted after 10:00
	nsOldH09       = []any{"c1", h09, "old", []string{"team"}, []string{"gone"}}
	nsShopC2       = []any{"c2", h11, "shop", []string{"team"}, []string{"other-cluster"}}
)

// loadNamespaces inserts the namespace snapshots; the re-collected one in a later batch.
func (c *conformance) loadNamespaces(t *testing.T) {
	c.insert(t, "insert_namespaces", nsOldH09, nsShopH10, nsBatchH10, nsShopH11, nsShopH12, nsShopC2)
	c.insert(t, "insert_namespaces", nsShopH11Again)
}

// asOf is the parameters the store binds for the namespace labels of a window ending at to.
func asOf(cluster string, to time.Time) map[string]any {
	p := window(cluster, to, to)
	delete(p, "from")
	return p
}

func (c *conformance) namespaceReads(t *testing.T) {
	t.Run("select_namespace_labels", func(t *testing.T) {
		res := c.query(t, "select_namespace_labels", asOf("c1", h12))
		res.wantColumns(t, "cluster", "LowCardinality(String)", "ts", "DateTime('UTC')", "namespace", "LowCardinality(String)",
			"label_keys", "Array(String)", "label_values", "Array(String)")
		// c1 as of [10:00, 12:00), each namespace's latest snapshot before 12:00, by name: batch
		// as last seen at 10:00; old as last seen at 09:00; shop at 11:00 (not 10:00; 12:00 is
		// not before the end), as its later insert has it (FINAL). c2's shop is another cluster.
		res.wantRows(t, rowOut(nsBatchH10), rowOut(nsOldH09), rowOut(nsShopH11Again))

		// As of [12:00, next day): shop's 12:00 snapshot; the others as last seen.
		c.query(t, "select_namespace_labels", asOf("c1", d2)).wantRows(t, rowOut(nsBatchH10), rowOut(nsOldH09), rowOut(nsShopH12))
		// No snapshot in a later window: the latest ones still.
		c.query(t, "select_namespace_labels", asOf("c1", d3)).wantRows(t, rowOut(nsBatchH10), rowOut(nsOldH09), rowOut(nsShopH12))
		// A window before every snapshot (collected later, with --backfill): each namespace's
		// first snapshot — old's at 09:00, the window's end, is not before it.
		c.query(t, "select_namespace_labels", asOf("c1", h09)).wantRows(t, rowOut(nsBatchH10), rowOut(nsOldH09), rowOut(nsShopH10))
	})
}
