-- Retention: drops one partition of a time-partitioned table. {table} is filled by the store
-- from a fixed list of tally's tables, never from input.
ALTER TABLE {table} DROP PARTITION ID @partition
