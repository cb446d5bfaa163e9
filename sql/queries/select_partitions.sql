-- The active partitions of one of tally's tables, for retention.
SELECT DISTINCT partition_id
FROM system.parts
WHERE database = currentDatabase() AND table = @table AND active
ORDER BY partition_id
