-- The cloud's bill, imported from FOCUS files (reporter bill import; docs/bill.md).
--
-- bill_lines holds every imported line, tagged with the import it came from. An import
-- replaces, for one source (by default a provider's billing account) and billing period,
-- whatever an earlier import of them held: bill_imports keeps one row per source and period,
-- the latest import winning (ReplacingMergeTree on import_id, a nanosecond timestamp), and
-- readers take only the lines of those imports. The import row is written after all its
-- lines, so an import cut short is invisible, and importing the same content again writes
-- nothing (its checksum is already the current one).

CREATE TABLE IF NOT EXISTS bill_lines
(
    source                   String,
    billing_period_start     DateTime('UTC'),
    import_id                UInt64,
    line                     UInt32,
    billing_period_end       DateTime('UTC'),
    charge_period_start      DateTime('UTC'),
    charge_period_end        DateTime('UTC'),
    provider                 String,
    billing_account_id       String,
    sub_account_id           String,
    service                  String,
    charge_category          String,
    pricing_category         String,
    resource_id              String,
    resource_type            String,
    region                   String,
    availability_zone        String,
    sku_id                   String,
    commitment_discount_id   String,
    commitment_discount_type String,
    billed_cost              Float64,
    effective_cost           Float64,
    list_cost                Float64,
    consumed_quantity        Float64,
    consumed_unit            String,
    currency                 String,
    tag_keys                 Array(String),
    tag_values               Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (source, billing_period_start, import_id, charge_period_start, resource_id, line);

CREATE TABLE IF NOT EXISTS bill_imports
(
    source               String,
    billing_period_start DateTime('UTC'),
    import_id            UInt64,
    checksum             String,
    file                 String,
    lines                UInt64,
    billed_cost          Float64,
    imported_at          DateTime('UTC')
)
ENGINE = ReplacingMergeTree(import_id)
ORDER BY (source, billing_period_start);
