-- The current import of each source and billing period: the latest (FINAL keeps the row with
-- the largest import_id per key).
SELECT source, billing_period_start, import_id, checksum, file, lines, billed_cost, imported_at
FROM bill_imports FINAL
ORDER BY source, billing_period_start
