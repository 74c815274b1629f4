-- functions/inbound.sql: storing an inbound SMS once per (gateway, id)
-- and the checks around it (daemon/ingest.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

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

-- One inbound SMS: pakn.handle_sms, unless the sender must get no reply
-- (p_sender_flag from paknd's numbering plan and configuration, or a
-- number messages came to): then the message is only stored, flagged.
CREATE OR REPLACE FUNCTION pakn.handle_inbound(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text, p_sender_flag text,
	p_text_cut boolean,
	OUT message_id bigint, OUT duplicate boolean, OUT replies integer,
	OUT sender_flag text)
LANGUAGE plpgsql AS $$
DECLARE
	v_flag text := p_sender_flag;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = p_shortcode) THEN
		INSERT INTO pakn.own_number (number, gateway)
		VALUES (p_shortcode, p_gateway) ON CONFLICT DO NOTHING;
	END IF;
	IF v_flag IS NULL AND EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = p_msisdn) THEN
		v_flag := 'own_number';
	END IF;
	IF v_flag IS NULL THEN
		SELECT h.message_id, h.duplicate, h.replies
		  INTO message_id, duplicate, replies
		  FROM pakn.handle_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
			p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
			p_raw_body, p_kind, p_keyword, p_ticket, p_ticket_ok, p_unit,
			p_rating, p_text) h;
		-- A text cut to max_sms_text (011): raw_body has it whole.
		IF p_text_cut AND NOT duplicate THEN
			UPDATE pakn.inbound_message SET text_cut = true
			 WHERE id = message_id;
		END IF;
		RETURN;
	END IF;
	SELECT i.message_id, i.duplicate INTO message_id, duplicate
	  FROM pakn.ingest_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
		p_raw_body) i;
	IF NOT duplicate THEN
		UPDATE pakn.inbound_message m SET sender_flag = v_flag,
			text_cut = p_text_cut
		 WHERE m.id = message_id;
	END IF;
	replies := 0;
	sender_flag := v_flag;
END;
$$;

-- One inbound SMS with the abuse checks: a message from a banned phone,
-- repeated, or over a limit is stored, flagged and not acted on (one
-- notice a day for a limit); an official's answer over the length limit
-- is stored and refused; anything else goes to pakn.handle_inbound (012).
-- p_limits: complaints_per_hour, complaints_per_day, replies_per_day,
-- repeat_window (seconds), answer_max, answer_parts (0: no limit).
CREATE OR REPLACE FUNCTION pakn.handle_inbound_checked(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text, p_sender_flag text,
	p_text_cut boolean, p_limits jsonb,
	OUT message_id bigint, OUT duplicate boolean, OUT replies integer,
	OUT sender_flag text, OUT abuse_flag text)
LANGUAGE plpgsql AS $$
DECLARE
	v_abuse text;
	v_refuse text;
BEGIN
	IF p_sender_flag IS NULL AND NOT EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = p_msisdn) THEN
		-- One message of a phone at a time, so the counts are exact.
		INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
		ON CONFLICT (msisdn) DO NOTHING;
		PERFORM 1 FROM pakn.citizen c WHERE c.msisdn = p_msisdn
		   FOR NO KEY UPDATE;
		v_abuse := pakn.abuse_check(p_gateway, p_msg_id, p_msisdn, p_body,
			p_kind, p_keyword, p_limits);
		IF v_abuse IS NULL AND p_kind = 'answer' THEN
			v_refuse := pakn.answer_too_long(p_msisdn, p_limits);
		END IF;
	END IF;
	IF v_abuse IS NULL AND v_refuse IS NULL THEN
		SELECT h.message_id, h.duplicate, h.replies, h.sender_flag
		  INTO message_id, duplicate, replies, sender_flag
		  FROM pakn.handle_inbound(p_gateway, p_msg_id, p_msisdn,
			p_shortcode, p_body, p_sent_at, p_segments, p_smsc,
			p_raw_request, p_raw_body, p_kind, p_keyword, p_ticket,
			p_ticket_ok, p_unit, p_rating, p_text, p_sender_flag,
			p_text_cut) h;
		RETURN;
	END IF;
	SELECT i.message_id, i.duplicate INTO message_id, duplicate
	  FROM pakn.ingest_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
		p_raw_body) i;
	replies := 0;
	IF duplicate THEN
		RETURN;
	END IF;
	UPDATE pakn.inbound_message m SET abuse_flag = v_abuse,
		text_cut = p_text_cut
	 WHERE m.id = message_id;
	IF v_refuse IS NOT NULL THEN
		replies := pakn.official_refuse(p_gateway, p_msisdn, v_refuse,
			message_id);
		RETURN;
	END IF;
	abuse_flag := v_abuse;
	replies := pakn.abuse_notice(p_gateway, p_msisdn, v_abuse, p_limits,
		message_id);
END;
$$;
