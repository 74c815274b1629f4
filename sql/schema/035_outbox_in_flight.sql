-- 035: the outbox's due index holds the messages waiting to be sent, not
-- those being sent (issue 12). pakn.outbox_claim read 028's
-- outbox_due_idx (state queued or sending) from its start; a message
-- claimed stays at its place there ('sending', its next_attempt_at
-- unchanged) until its outcome is recorded, so each claim read every
-- message in flight (up to [outbox] max_inflight) and fetched its row to
-- find its lease not run out: in a drain, 650 index entries read and 205
-- rows fetched a claim for the 86 it took. The due index now holds the
-- queued messages only; the messages being sent are found by when their
-- lease runs out (outbox_lease_idx), which the claim reads first and
-- which holds none that ran out while paknd runs.
CREATE INDEX outbox_queued_idx ON pakn.outbox
	((inbound_id IS NULL), next_attempt_at, id)
	WHERE state = 'queued';
CREATE INDEX outbox_lease_idx ON pakn.outbox (lease_until)
	WHERE state = 'sending';
DROP INDEX pakn.outbox_due_idx;
ALTER INDEX pakn.outbox_queued_idx RENAME TO outbox_due_idx;
