-- The bill's BilledCost, EffectiveCost and ListCost summed over the lines whose charge period
-- starts in [from, to), per currency and per @by: provider, service, account (the sub-account
-- — AWS linked account, Azure subscription, Google project — else the billing account),
-- resource (ResourceId; "" for lines of none, such as credits and taxes) or day (the charge
-- period's UTC day). Only the lines of each source and billing period's current import count.
SELECT multiIf(@by = 'provider', provider,
               @by = 'service', service,
               @by = 'account', if(sub_account_id != '', sub_account_id, billing_account_id),
               @by = 'resource', resource_id,
               toString(toDate(charge_period_start)))  AS name,
       currency,
       sum(billed_cost)                                 AS billed,
       sum(effective_cost)                              AS effective,
       sum(list_cost)                                   AS list
FROM bill_lines
WHERE charge_period_start >= toDateTime(@from, 'UTC') AND charge_period_start < toDateTime(@to, 'UTC')
  AND (source, billing_period_start, import_id) IN (SELECT source, billing_period_start, import_id FROM bill_imports FINAL)
GROUP BY name, currency
ORDER BY name, currency
