-- Each namespace of one cluster with its labels as its latest snapshot in [from, to) had
-- them: what cost reports fall back to for a label:<key> the pod does not carry. A namespace
-- deleted during the window keeps its last labels. The subquery reads only the key columns;
-- FINAL keeps the later insert of a snapshot minute written twice.
SELECT cluster, ts, namespace, label_keys, label_values
FROM namespaces FINAL
WHERE cluster = @cluster
  AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
  AND (namespace, ts) IN
  (
      SELECT namespace, max(ts)
      FROM namespaces
      WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
      GROUP BY namespace
  )
ORDER BY namespace
