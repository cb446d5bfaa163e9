-- Each namespace of one cluster with its labels as of a window [from, to): what cost reports
-- fall back to for a label:<key> the pod does not carry. A namespace takes its latest
-- snapshot before the window's end (a relabelled one as it was at the end, a deleted one as
-- it was last seen, one not snapshotted during the window — the collector down — as before
-- it); a namespace first snapshotted after the window's end (history collected by a
-- collector started later, with --backfill) takes its first snapshot. Only @to is bound: a
-- snapshot before the window is still the namespace's latest knowledge. The subquery reads
-- only the key columns; FINAL keeps the later insert of a snapshot minute written twice.
SELECT cluster, ts, namespace, label_keys, label_values
FROM namespaces FINAL
WHERE cluster = @cluster
  AND (namespace, ts) IN
  (
      SELECT namespace, if(countIf(ts < toDateTime(@to, 'UTC')) > 0, maxIf(ts, ts < toDateTime(@to, 'UTC')), min(ts))
      FROM namespaces
      WHERE cluster = @cluster
      GROUP BY namespace
  )
ORDER BY namespace
