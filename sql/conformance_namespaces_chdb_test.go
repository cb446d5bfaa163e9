//go:build chdb

package sql_test

import "testing"

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

func (c *conformance) namespaceReads(t *testing.T) {
	t.Run("select_namespace_labels", func(t *testing.T) {
		res := c.query(t, "select_namespace_labels", window("c1", h10, h12))
		res.wantColumns(t, "cluster", "LowCardinality(String)", "ts", "DateTime('UTC')", "namespace", "LowCardinality(String)",
			"label_keys", "Array(String)", "label_values", "Array(String)")
		// c1 in [10:00, 12:00), each namespace's latest snapshot, by name: batch as last seen at
		// 10:00; shop at 11:00 (not 10:00; 12:00 is out), as its later insert has it (FINAL).
		// old (09:00) is before the window, c2's shop another cluster.
		res.wantRows(t, rowOut(nsBatchH10), rowOut(nsShopH11Again))

		// [12:00, next day): shop's 12:00 snapshot alone.
		c.query(t, "select_namespace_labels", window("c1", h12, d2)).wantRows(t, rowOut(nsShopH12))
		// No snapshot in the window: nothing.
		c.query(t, "select_namespace_labels", window("c1", d2, d3)).wantRows(t)
	})
}
