-- 044: the numbers whose messages carry a sender flag (our own number,
-- a gateway's own sender, a number outside the numbering plan: paknd's
-- process_sender_flag), one row a number, which the outbox's refusal
-- (pakn.outbox_refusals: an SMS is never sent to such a number) reads by
-- its key. It read the flagged messages of pakn.inbound_message instead,
-- by phone: an index scan of every month kept, for each number an SMS
-- goes to. A deployment keeps a year or two of messages; with 28 months
-- that was 23 us a number, 1.3 numbers a complaint (issue 12).
--
-- Kept by a trigger on the messages: a flag set adds the number (the
-- first flag seen stays). A number goes when no flagged message of it
-- is left (pakn.flagged_sender_prune: after a purge, or when months of
-- messages are dropped), as the refusal read them before.
CREATE TABLE pakn.flagged_sender (
	msisdn      text PRIMARY KEY,
	sender_flag text NOT NULL,
	flagged_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pakn.flagged_sender IS
	'numbers with a flagged message (pakn.inbound_message.sender_flag): '
	'no SMS is sent to them';

INSERT INTO pakn.flagged_sender (msisdn, sender_flag, flagged_at)
SELECT DISTINCT ON (m.msisdn) m.msisdn, m.sender_flag, m.received_at
  FROM pakn.inbound_message m
 WHERE m.sender_flag IS NOT NULL
 ORDER BY m.msisdn, m.received_at, m.id;

CREATE FUNCTION pakn.flagged_sender_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pakn.flagged_sender (msisdn, sender_flag)
	VALUES (NEW.msisdn, NEW.sender_flag)
	ON CONFLICT (msisdn) DO NOTHING;
	RETURN NULL;
END;
$$;

-- On every month (a partitioned table's row trigger is every
-- partition's, those created later too). The WHEN is tested as the row
-- is written: a message with no flag (nearly all) queues nothing.
CREATE TRIGGER inbound_message_flagged
	AFTER INSERT OR UPDATE OF sender_flag ON pakn.inbound_message
	FOR EACH ROW WHEN (NEW.sender_flag IS NOT NULL)
	EXECUTE FUNCTION pakn.flagged_sender_keep();
