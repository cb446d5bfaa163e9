INSERT INTO bill_imports (source, billing_period_start, import_id, checksum, file, lines, billed_cost, imported_at)
