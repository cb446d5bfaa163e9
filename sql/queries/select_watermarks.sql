-- The current watermark of every job of one cluster.
SELECT job, argMax(watermark, version) AS watermark
FROM watermarks
WHERE cluster = @cluster
GROUP BY job
ORDER BY job
