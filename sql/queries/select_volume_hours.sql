-- Per clock hour of [from, to) and persistent volume of one cluster: the minutes the volume
-- was seen in, as a set (bit m is minute m of the hour), and the volume as its latest
-- snapshot of the hour has it. FINAL keeps the later insert of a snapshot minute written twice.
SELECT toStartOfHour(ts)                                   AS hour,
       volume,
       groupBitOr(bitShiftLeft(toUInt64(1), toMinute(ts))) AS minutes,
       argMax(capacity_bytes, ts)                          AS capacity,
       argMax(storage_class, ts)                           AS class,
       argMax(provisioner, ts)                             AS volume_provisioner,
       argMax(volume_type, ts)                             AS type,
       argMax(volume_handle, ts)                           AS handle,
       argMax(phase, ts)                                   AS volume_phase,
       argMax(claim_namespace, ts)                         AS bound_namespace,
       argMax(claim, ts)                                   AS bound_claim,
       argMax(label_keys, ts)                              AS keys,
       argMax(label_values, ts)                            AS values
FROM volumes FINAL
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
GROUP BY hour, volume
ORDER BY hour, volume
