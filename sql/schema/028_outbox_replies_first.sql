-- 028: replies before notices (issue 12). The outbox sent the oldest
-- message first, so in a flood the acknowledgement of a citizen who
-- just texted waited behind the notices to officials of every earlier
-- complaint (three in the sample units). A message that answers one
-- just received (inbound_id set: the ack, a status, a reply to an
-- official's command) now goes before the others that are due (notices,
-- reminders, summaries, surveys), and among each kind the oldest first.
-- The claim reads this index in that order; pakn.outbox_claim
-- (functions/outbox.sql) returns which kind each message is, so paknd
-- keeps the order in its gateways' queues.
CREATE INDEX outbox_reply_due_idx ON pakn.outbox
	((inbound_id IS NULL), next_attempt_at, id)
	WHERE state IN ('queued', 'sending');
DROP INDEX pakn.outbox_due_idx;
ALTER INDEX pakn.outbox_reply_due_idx RENAME TO outbox_due_idx;
-- Its result has a column more (a new database has none yet).
DROP FUNCTION IF EXISTS pakn.outbox_claim(integer, integer);
