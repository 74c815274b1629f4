-- functions/inbound.sql: storing an inbound SMS once per (gateway, id)
-- and the checks around it (daemon/ingest.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Store one inbound SMS, its sender's citizen row first. A repeated
-- (gateway, id) stores nothing and returns the first row's id with
-- duplicate = true. While pakn.intake_process handles a stored message
-- (pakn.intake_id set), that message is the one being stored, new.
CREATE OR REPLACE FUNCTION pakn.ingest_sms(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	OUT message_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint := nullif(current_setting('pakn.intake_id', true), '');
BEGIN
	IF v_id IS NOT NULL THEN
		SELECT m.id INTO message_id FROM pakn.inbound_message m
		 WHERE m.id = v_id AND m.gateway = p_gateway
		   AND m.gateway_msg_id = p_msg_id;
		IF FOUND THEN
			INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
			ON CONFLICT (msisdn) DO NOTHING;
			duplicate := false;
			RETURN;
		END IF;
	END IF;
	INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
	ON CONFLICT (msisdn) DO NOTHING;
	-- Stored by its handler, which acts on it now: processed.
	SELECT i.message_id, i.duplicate INTO message_id, duplicate
	  FROM pakn.intake_store(p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request, p_raw_body,
		NULL, 'done') i;
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

-- Store one inbound SMS for the processing worker (state 'new'), as
-- intake does; the journal's replay (paknctl journal replay, paknd after
-- an outage) gives the time intake received it (p_received_at), a
-- handler that acts on it at once stores it 'done'. Its key first
-- (pakn.inbound_key, 025): a repeated (gateway, id) stores nothing and
-- returns the first row's id with duplicate = true.
CREATE OR REPLACE FUNCTION pakn.intake_store(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_received_at timestamptz DEFAULT NULL, p_state text DEFAULT 'new',
	OUT message_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_at timestamptz;
BEGIN
	INSERT INTO pakn.inbound_key AS k (gateway, gateway_msg_id, received_at)
	VALUES (p_gateway, p_msg_id, coalesce(p_received_at, now()))
	ON CONFLICT DO NOTHING
	RETURNING k.id, k.received_at INTO message_id, v_at;
	duplicate := message_id IS NULL;
	IF duplicate THEN
		SELECT k.id INTO message_id FROM pakn.inbound_key k
		 WHERE k.gateway = p_gateway AND k.gateway_msg_id = p_msg_id;
		RETURN;
	END IF;
	INSERT INTO pakn.inbound_message (id, received_at, gateway,
		gateway_msg_id, msisdn, shortcode, body, sent_at, segments, smsc,
		raw_request, raw_body, state, processed_at)
	VALUES (message_id, v_at, p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request, p_raw_body,
		p_state, CASE WHEN p_state = 'done' THEN now() END);
END;
$$;

-- Claim up to p_limit stored messages for processing by paknd instance
-- p_owner for p_lease seconds, the oldest first. A phone's messages are
-- processed in the order they came, by one instance at a time: a claim
-- first takes the advisory locks of the phones it may claim (one of 128
-- per hash of the number, so at most 128 however long the backlog), then,
-- in a statement whose snapshot is taken with those locks held (so it
-- sees what another instance claimed before it let go of them), takes
-- the messages of those phones that have no earlier message in flight;
-- paknd then runs each phone's messages one after the other. A message
-- claimed 5 times already (its lease ran out each time: the worker died
-- on it) is marked failed instead.
CREATE OR REPLACE FUNCTION pakn.intake_claim(p_owner text, p_limit integer,
	p_lease integer)
RETURNS TABLE (id bigint, gateway text, gateway_msg_id text, msisdn text,
	shortcode text, body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_buckets integer[];
BEGIN
	SELECT array_agg(DISTINCT x.b) INTO v_buckets
	  FROM (SELECT hashtext(m.msisdn) & 127 AS b
		  FROM pakn.inbound_message m
		 WHERE m.state = 'new'
		   AND (m.lease_until IS NULL OR m.lease_until < now())
		 ORDER BY m.id LIMIT p_limit) x
	 WHERE pg_try_advisory_xact_lock(7141748, x.b);
	IF v_buckets IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH c AS (
		SELECT m.id FROM pakn.inbound_message m
		 WHERE m.state = 'new'
		   AND (m.lease_until IS NULL OR m.lease_until < now())
		   AND (hashtext(m.msisdn) & 127) = ANY (v_buckets)
		   AND NOT EXISTS (SELECT 1 FROM pakn.inbound_message e
			WHERE e.state = 'new' AND e.msisdn = m.msisdn
			  AND e.id < m.id AND e.lease_until >= now())
		 ORDER BY m.id LIMIT p_limit
		   FOR UPDATE OF m SKIP LOCKED),
	u AS (
		UPDATE pakn.inbound_message m
		   SET attempts = m.attempts + 1,
			state = CASE WHEN m.attempts >= 5 THEN 'failed' ELSE 'new' END,
			error = CASE WHEN m.attempts >= 5
				THEN 'claimed 5 times without being processed' END,
			processed_at = CASE WHEN m.attempts >= 5 THEN now() END,
			lease_owner = CASE WHEN m.attempts < 5 THEN p_owner END,
			lease_until = CASE WHEN m.attempts < 5
				THEN now() + make_interval(secs => p_lease) END
		  FROM c WHERE m.id = c.id
		RETURNING m.id, m.gateway, m.gateway_msg_id, m.msisdn, m.shortcode,
			m.body, m.state)
	SELECT u.id, u.gateway, u.gateway_msg_id, u.msisdn, u.shortcode, u.body
	  FROM u WHERE u.state = 'new' ORDER BY u.id;
END;
$$;

-- Process one claimed message: what the grammar read in it (p_kind ...
-- p_text, as pakn.handle_inbound_checked takes them), the sender flag and
-- limits paknd computed, and the category its classifier found with the
-- keywords of p_category_version (NULL, or keywords changed since:
-- pakn.category_of decides). The message is marked done in the same
-- transaction as its replies, complaint and ledger rows, so it is
-- processed exactly once; a message not leased to p_owner any more is
-- skipped (state 'skipped'). An error is raised as it is (no
-- subtransaction per message: with dozens of messages a transaction
-- they would overflow every snapshot's cache): paknd runs the message
-- alone again, and if it fails again marks it failed with the reason
-- (pakn.intake_fail) while the rest of its batch commits.
CREATE OR REPLACE FUNCTION pakn.intake_process(p_id bigint, p_owner text,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text, p_sender_flag text,
	p_limits jsonb, p_category text, p_category_version bigint,
	OUT message_id bigint, OUT replies integer, OUT sender_flag text,
	OUT abuse_flag text, OUT state text, OUT error text)
LANGUAGE plpgsql
-- Generic plans for the whole command (as pakn.outbox_result).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
	m pakn.inbound_message;
BEGIN
	message_id := p_id;
	replies := 0;
	SELECT * INTO m FROM pakn.inbound_message i WHERE i.id = p_id FOR UPDATE;
	IF NOT FOUND OR m.state <> 'new' OR m.lease_owner IS DISTINCT FROM p_owner
	THEN
		state := 'skipped';
		RETURN;
	END IF;
	IF p_category_version IS DISTINCT FROM
			(SELECT v.version FROM pakn.category_version v) THEN
		p_category := NULL;
	END IF;
	PERFORM set_config('pakn.intake_id', p_id::text, true),
		set_config('pakn.category', coalesce(p_category, ''), true);
	SELECT h.replies, h.sender_flag, h.abuse_flag
	  INTO replies, sender_flag, abuse_flag
	  FROM pakn.handle_inbound_checked(m.gateway, m.gateway_msg_id,
		m.msisdn, m.shortcode, m.body, m.sent_at, m.segments, m.smsc,
		NULL, NULL, p_kind, p_keyword, p_ticket, p_ticket_ok, p_unit,
		p_rating, p_text, p_sender_flag, m.text_cut, p_limits) h;
	state := 'done';
	UPDATE pakn.inbound_message i
	   SET state = 'done', processed_at = clock_timestamp(),
		lease_owner = NULL, lease_until = NULL
	 WHERE i.id = p_id AND i.received_at = m.received_at;
	PERFORM set_config('pakn.intake_id', '', true),
		set_config('pakn.category', '', true);
END;
$$;

-- A claimed message whose processing failed (p_error: the database's
-- message) is marked failed, not retried, visible to operators. Whether
-- it was (false: processed or claimed elsewhere meanwhile).
CREATE OR REPLACE FUNCTION pakn.intake_fail(p_id bigint, p_owner text,
	p_error text)
RETURNS boolean
LANGUAGE sql AS $$
	WITH u AS (
		UPDATE pakn.inbound_message i
		   SET state = 'failed', error = p_error,
			processed_at = clock_timestamp(), lease_owner = NULL,
			lease_until = NULL
		 WHERE i.id = p_id AND i.state = 'new' AND i.lease_owner = p_owner
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

-- The processing backlog for operators and /metrics: unprocessed
-- messages, the age of the oldest in seconds, failed ones.
CREATE OR REPLACE FUNCTION pakn.intake_backlog(OUT waiting bigint,
	OUT oldest_age double precision, OUT failed bigint)
LANGUAGE sql STABLE AS $$
	SELECT (SELECT count(*) FROM pakn.inbound_message WHERE state = 'new'),
		coalesce((SELECT extract(epoch FROM now() - min(received_at))
		   FROM pakn.inbound_message WHERE state = 'new'), 0),
		(SELECT count(*) FROM pakn.inbound_message WHERE state = 'failed')
$$;
