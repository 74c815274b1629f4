-- 010: one lock order for concurrent callbacks (see daemon/db.c).
--
-- paknd sends each batch of callbacks sorted by the sender's phone. The
-- rows a callback may wait on are then taken in one order across
-- batches only if, for each message, the citizen row comes first and the
-- message row after it: before this migration a new citizen's row was
-- inserted after the message, and two batches holding the same two new
-- citizens deadlocked (40P01) on the citizen's primary key.

-- Store one inbound SMS, its sender's citizen row first. A repeated
-- (gateway, id) stores nothing and returns the first row's id with
-- duplicate = true.
CREATE OR REPLACE FUNCTION pakn.ingest_sms(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	OUT message_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
	ON CONFLICT (msisdn) DO NOTHING;
	INSERT INTO pakn.inbound_message AS m (gateway, gateway_msg_id,
		msisdn, shortcode, body, sent_at, segments, smsc, raw_request,
		raw_body)
	VALUES (p_gateway, p_msg_id, p_msisdn, p_shortcode, p_body, p_sent_at,
		p_segments, p_smsc, p_raw_request, p_raw_body)
	ON CONFLICT ON CONSTRAINT inbound_message_gateway_msg_key DO NOTHING
	RETURNING m.id INTO message_id;
	IF message_id IS NOT NULL THEN
		duplicate := false;
		RETURN;
	END IF;
	SELECT m.id INTO message_id FROM pakn.inbound_message m
	 WHERE m.gateway = p_gateway AND m.gateway_msg_id = p_msg_id;
	duplicate := true;
END;
$$;
