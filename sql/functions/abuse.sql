-- functions/abuse.sql: bans, per-phone limits, repeated messages, and
-- the checks that run before a message is acted on (daemon: ingest.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Ban a phone (paknctl ban), ledgered. Returns false when it was banned
-- already (the reason is then updated, and ledgered too).
CREATE OR REPLACE FUNCTION pakn.ban_add(p_msisdn text, p_reason text, p_actor text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_new boolean;
BEGIN
	INSERT INTO pakn.ban AS b (msisdn, reason, banned_by)
	VALUES (p_msisdn, p_reason, p_actor)
	ON CONFLICT (msisdn) DO UPDATE SET reason = excluded.reason
	RETURNING (b.xmax = 0) INTO v_new;
	INSERT INTO pakn.ban_event (msisdn, action, reason, actor)
	VALUES (p_msisdn, 'ban', p_reason, p_actor);
	RETURN v_new;
END;
$$;

-- Lift a ban (paknctl unban), ledgered. Returns false when there was none.
CREATE OR REPLACE FUNCTION pakn.ban_lift(p_msisdn text, p_reason text, p_actor text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM pakn.ban WHERE msisdn = p_msisdn;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO pakn.ban_event (msisdn, action, reason, actor)
	VALUES (p_msisdn, 'unban', p_reason, p_actor);
	RETURN true;
END;
$$;

-- Is this the phone of an active official or of a unit? They have no
-- limits: officials text many commands and get many notices.
CREATE OR REPLACE FUNCTION pakn.abuse_exempt(p_msisdn text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT (pakn.official_by_phone(p_msisdn)).id IS NOT NULL
	    OR pakn.official_unit(p_msisdn) IS NOT NULL
$$;

-- What the limits count for each of p_msisdns: the SMS queued to it
-- since local midnight (replies_per_day), its complaints in the last
-- hour and since local midnight. By the indexes on (msisdn,
-- created_at), whatever the plan: pakn.intake_process_batch's plans,
-- kept for the session (force_generic_plan), are made at its first
-- call, and made on an outbox analyzed while empty they counted each
-- phone's replies by reading the month's outbox (a scratch drain with
-- the default limits: 473 million rows read, 963 complaints/s against
-- 4 400 with the limits off).
CREATE OR REPLACE FUNCTION pakn.abuse_counts(p_msisdns text[])
RETURNS TABLE (msisdn text, replies bigint, hour bigint, day bigint)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET jit = off
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT p.m,
		(SELECT count(*) FROM pakn.outbox o WHERE o.msisdn = p.m
		    AND o.created_at >= pakn.local_midnight(now())),
		(SELECT count(*) FROM pakn.complaint c WHERE c.msisdn = p.m
		    AND c.created_at > now() - interval '1 hour'),
		(SELECT count(*) FROM pakn.complaint c WHERE c.msisdn = p.m
		    AND c.created_at >= pakn.local_midnight(now()))
	  FROM unnest(p_msisdns) p (m);
END;
$$;

-- A limit of p_limits (0 or missing: none).
CREATE OR REPLACE FUNCTION pakn.abuse_limit(p_limits jsonb, p_key text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(nullif((p_limits->>p_key)::integer, 0), 2147483647)
$$;

-- Is the same text (trimmed, any case) from this phone already stored
-- within the last p_window seconds (an auto-responder, a loop, a resend)?
CREATE OR REPLACE FUNCTION pakn.abuse_repeated(p_gateway text, p_msg_id text,
	p_msisdn text, p_body text, p_window integer)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN coalesce(p_window, 0) > 0 AND btrim(p_body) <> ''
	   AND EXISTS (SELECT 1 FROM pakn.inbound_message m
		WHERE m.msisdn = p_msisdn
		  AND m.received_at > now() - make_interval(secs => p_window)
		  AND lower(btrim(m.body)) = lower(btrim(p_body))
		  AND NOT (m.gateway = p_gateway AND m.gateway_msg_id = p_msg_id)
		  -- Stored after this one, not processed yet (024): not earlier.
		  AND m.state <> 'new');
END;
$$;

-- Why a message must be stored without being acted on, or NULL: the
-- phone is banned; the same text again (but STOP and START always
-- count); over the replies of the day; a new complaint over the hour's or
-- the day's limit. A limit that is off (0) counts nothing. (Each CASE in
-- parentheses: an ELSIF's condition ends at the first THEN otherwise.)
-- pakn.intake_process_batch asks the same of new complaints in its own
-- query: a change here is a change there. (The counts are
-- pakn.abuse_counts', as the batch's: a limit that is off counts
-- nothing, and the phone's counts are taken once.)
CREATE OR REPLACE FUNCTION pakn.abuse_check(p_gateway text, p_msg_id text,
	p_msisdn text, p_body text, p_kind text, p_keyword boolean,
	p_limits jsonb)
RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	v_replies integer;
	v_hour integer;
	v_day integer;
	n record;
BEGIN
	IF EXISTS (SELECT 1 FROM pakn.ban b WHERE b.msisdn = p_msisdn) THEN
		RETURN 'banned';
	ELSIF pakn.abuse_exempt(p_msisdn) THEN
		RETURN NULL;
	ELSIF p_kind NOT IN ('stop', 'start')
			AND pakn.abuse_repeated(p_gateway, p_msg_id, p_msisdn, p_body,
				(p_limits->>'repeat_window')::integer) THEN
		RETURN 'repeated';
	END IF;
	v_replies := pakn.abuse_limit(p_limits, 'replies_per_day');
	v_hour := pakn.abuse_limit(p_limits, 'complaints_per_hour');
	v_day := pakn.abuse_limit(p_limits, 'complaints_per_day');
	IF least(v_replies, v_hour, v_day) = 2147483647 THEN
		RETURN NULL;
	END IF;
	SELECT * INTO n FROM pakn.abuse_counts(ARRAY[p_msisdn]);
	IF n.replies >= v_replies THEN
		RETURN 'limit_replies';
	ELSIF p_kind <> 'complaint' OR NOT (p_keyword
			OR pakn.pending_location(p_msisdn) IS NULL) THEN
		RETURN NULL;
	ELSIF n.hour >= v_hour THEN
		RETURN 'limit_hour';
	ELSIF n.day >= v_day THEN
		RETURN 'limit_day';
	END IF;
	RETURN NULL;
END;
$$;

-- The one SMS a day that tells a phone it went over a limit (none for a
-- ban or a repeat). Returns the number queued.
CREATE OR REPLACE FUNCTION pakn.abuse_notice(p_gateway text, p_msisdn text,
	p_flag text, p_limits jsonb, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	IF p_flag NOT LIKE 'limit_%' OR EXISTS (SELECT 1 FROM pakn.outbox o
			WHERE o.msisdn = p_msisdn AND o.kind = 'limit_notice'
			  AND o.created_at >= pakn.local_midnight(now())) THEN
		RETURN 0;
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'limit_notice', CASE p_flag
		WHEN 'limit_hour' THEN jsonb_build_object('limit', format(
			'%s phản ánh trong một giờ', p_limits->>'complaints_per_hour'),
			'after', 'một giờ')
		WHEN 'limit_day' THEN jsonb_build_object('limit', format(
			'%s phản ánh trong ngày', p_limits->>'complaints_per_day'),
			'after', 'nửa đêm')
		ELSE jsonb_build_object('limit', format('%s tin trả lời trong ngày',
			p_limits->>'replies_per_day'), 'after', 'nửa đêm') END,
		NULL, p_inbound);
END;
$$;

-- Why an official's TL must be refused for its length, or NULL: paknd
-- counts the parts the answer needs (answer_parts) against [sms]
-- max_answer_parts (answer_max). Others' TL is refused by handle_sms.
CREATE OR REPLACE FUNCTION pakn.answer_too_long(p_msisdn text, p_limits jsonb)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format('câu trả lời cần %s tin nhắn, quá giới hạn %s tin '
		'(max_answer_parts); xin rút gọn rồi gửi lại.',
		p_limits->>'answer_parts', p_limits->>'answer_max')
	 WHERE (p_limits->>'answer_parts')::integer
		> pakn.abuse_limit(p_limits, 'answer_max')
	   AND pakn.abuse_exempt(p_msisdn)
$$;
