-- 024: intake and processing apart (issue 12). A gateway's callback is
-- stored as one row of pakn.inbound_message (state 'new') and answered
-- after that commit; paknd's processing worker claims new rows under a
-- lease (pakn.intake_claim), runs the command for each in a later
-- transaction (pakn.intake_process) and marks it 'done', or 'failed'
-- with the reason. Rows stored before this file were handled when they
-- were stored: they are 'done'.

ALTER TABLE pakn.inbound_message
	ADD COLUMN state text NOT NULL DEFAULT 'done'
		CHECK (state IN ('new', 'done', 'failed')),
	ADD COLUMN lease_owner text,
	ADD COLUMN lease_until timestamptz,
	ADD COLUMN attempts integer NOT NULL DEFAULT 0,
	ADD COLUMN processed_at timestamptz,
	ADD COLUMN error text;
ALTER TABLE pakn.inbound_message ALTER COLUMN state SET DEFAULT 'new';

COMMENT ON COLUMN pakn.inbound_message.state IS
	'new: stored, not processed yet; done: processed (replies queued, '
	'complaint filed...); failed: its processing raised an error (error '
	'says which), not retried';
COMMENT ON COLUMN pakn.inbound_message.lease_owner IS
	'the paknd processing it (its instance id) while lease_until is ahead';
COMMENT ON COLUMN pakn.inbound_message.attempts IS
	'claims so far; a message claimed 5 times without being processed '
	'(a worker that died on it each time) is marked failed';
COMMENT ON COLUMN pakn.inbound_message.error IS
	'why processing failed: SQLSTATE and message';

-- The backlog in order, and a phone's earlier unprocessed messages.
CREATE INDEX inbound_message_new_idx ON pakn.inbound_message (id)
	WHERE state = 'new';
CREATE INDEX inbound_message_new_phone_idx
	ON pakn.inbound_message (msisdn, id) WHERE state = 'new';
CREATE INDEX inbound_message_failed_idx ON pakn.inbound_message (id)
	WHERE state = 'failed';
