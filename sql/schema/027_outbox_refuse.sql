-- 027: one BEFORE INSERT trigger on the outbox where there were three
-- (issue 12). Every SMS queued ran outbox_refuse_banned (018),
-- outbox_refuse_flagged (012) and outbox_skip_nophone (020), each a
-- PL/pgSQL call with its own queries: about a fifth of the cost of
-- queueing a row. pakn.outbox_refuse does what the three did, in the
-- order they fired (by name): a banned phone's SMS is kept failed
-- ('refused: the number is banned'); then one to our own number or to a
-- flagged sender is kept failed ('refused: the number is flagged (...)');
-- an Open311 report's "phone" (open311:...) gets no row at all.

DROP TRIGGER outbox_refuse_banned ON pakn.outbox;
DROP TRIGGER outbox_refuse_flagged ON pakn.outbox;
DROP TRIGGER outbox_skip_nophone ON pakn.outbox;
DROP FUNCTION pakn.outbox_refuse_banned();
DROP FUNCTION pakn.outbox_refuse_flagged();
DROP FUNCTION pakn.outbox_skip_nophone();

CREATE FUNCTION pakn.outbox_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_why text;
BEGIN
	IF NEW.msisdn LIKE 'open311:%' THEN
		RETURN NULL;
	ELSIF NEW.state <> 'queued' THEN
		RETURN NEW;
	END IF;
	SELECT CASE WHEN EXISTS (SELECT 1 FROM pakn.ban b
			WHERE b.msisdn = NEW.msisdn)
		THEN 'refused: the number is banned'
		ELSE 'refused: the number is flagged (' || coalesce(
			(SELECT 'own_number' FROM pakn.own_number n
			  WHERE n.number = NEW.msisdn),
			(SELECT m.sender_flag FROM pakn.inbound_message m
			  WHERE m.msisdn = NEW.msisdn AND m.sender_flag IS NOT NULL
			  LIMIT 1)) || ')' END
	  INTO v_why;
	IF v_why IS NOT NULL THEN
		NEW.state := 'failed';
		NEW.last_error := v_why;
	END IF;
	RETURN NEW;
END;
$$;
-- On the partitioned table: every partition, now and to come, has it.
CREATE TRIGGER outbox_refuse BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse();
