-- The namespaces of a cluster with usage on the UTC days that [from, to) touches: how
-- rightsizing batches its statistics queries.
SELECT DISTINCT namespace
FROM usage_daily
WHERE cluster = @cluster
  AND day >= toDate(toDateTime(@from, 'UTC')) AND day <= toDate(toDateTime(@to - 1, 'UTC'))
ORDER BY namespace
