-- Webhook deliveries are taken per webhook (each receiver has its own lane, so a dead one
-- never holds up the others): the due deliveries of one webhook are found by this index,
-- which holds only the pending ones.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (webhook_id, next_attempt_at)
    WHERE status = 'pending';
