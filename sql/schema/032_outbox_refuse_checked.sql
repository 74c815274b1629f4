-- 032: the outbox's refusal checked once for each number of a batch
-- (issue 12). Every row queued ran pakn.outbox_refuse (027), a PL/pgSQL
-- trigger with its query: 19 us a row, 2.4 rows a complaint made by
-- pakn.intake_process_batch, most of them to the same few officials.
-- The batch now asks pakn.outbox_refusal once for each number and writes
-- the rows as the trigger would (failed, with the reason), with
-- pakn.outbox_checked set for its statement: the trigger is skipped
-- while it is 'on' (a transaction-local setting: a batch that fails
-- leaves it unset). Every other insert runs the trigger as before.

-- Why an SMS to p_msisdn is refused (as 027): banned; else our own
-- number or a flagged sender; NULL if it is not.
CREATE FUNCTION pakn.outbox_refusal(p_msisdn text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT CASE WHEN EXISTS (SELECT 1 FROM pakn.ban b
			WHERE b.msisdn = p_msisdn)
		THEN 'refused: the number is banned'
		ELSE 'refused: the number is flagged (' || coalesce(
			(SELECT 'own_number' FROM pakn.own_number n
			  WHERE n.number = p_msisdn),
			(SELECT m.sender_flag FROM pakn.inbound_message m
			  WHERE m.msisdn = p_msisdn AND m.sender_flag IS NOT NULL
			  LIMIT 1)) || ')' END);
END;
$$;

CREATE OR REPLACE FUNCTION pakn.outbox_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_why text;
BEGIN
	IF NEW.msisdn LIKE 'open311:%' THEN
		RETURN NULL;
	ELSIF NEW.state <> 'queued' THEN
		RETURN NEW;
	END IF;
	v_why := pakn.outbox_refusal(NEW.msisdn);
	IF v_why IS NOT NULL THEN
		NEW.state := 'failed';
		NEW.last_error := v_why;
	END IF;
	RETURN NEW;
END;
$$;

DROP TRIGGER outbox_refuse ON pakn.outbox;
CREATE TRIGGER outbox_refuse BEFORE INSERT ON pakn.outbox
	FOR EACH ROW
	WHEN (current_setting('pakn.outbox_checked', true)
		IS DISTINCT FROM 'on')
	EXECUTE FUNCTION pakn.outbox_refuse();
