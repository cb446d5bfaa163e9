INSERT INTO watermarks (cluster, job, watermark, updated_at, version)
