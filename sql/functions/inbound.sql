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
--
-- Each message claimed comes with a value of pakn.ticket_seq
-- (ticket_seq) and the installation's ticket key (ticket_key, hex): paknd
-- computes the ticket a complaint of the message would get
-- (daemon/ticket.c, the same function as pakn.ticket_encode's) and gives
-- it to pakn.intake_process_batch, which then does not run the Feistel
-- network in PL/pgSQL (41 us a complaint). A value not used (the message
-- is no complaint) is a gap in the tickets, as a rollback leaves.
--
-- And its received_at, which names its month's partition: paknd gives it
-- back to pakn.intake_process_batch, whose look-ups by id then read that
-- month alone. A look-up by id alone reads every month's index (the
-- partition key is not in it): a deployment keeps a year or two of
-- messages, and each statement that found a claimed message by its id
-- scanned every month's index for it (check_partitions
-- test_claim_reads_its_months: 3 672 scans of twelve old months for 100
-- complaints, now 60).
-- (The columns changed: the function is made again.)
DROP FUNCTION IF EXISTS pakn.intake_claim(text, integer, integer);
CREATE FUNCTION pakn.intake_claim(p_owner text, p_limit integer,
	p_lease integer)
RETURNS TABLE (id bigint, gateway text, gateway_msg_id text, msisdn text,
	shortcode text, body text, ticket_seq bigint, ticket_key text,
	received_at timestamptz)
LANGUAGE plpgsql
-- The oldest waiting messages read in the order of their index, never
-- all of them sorted: with a backlog, the statistics (a few hundred
-- waiting when last counted) made the planner sort every waiting message
-- for each claim (38 000: 100-170 ms a claim). (A sort that must be
-- done is costed as if disabled: no JIT compilation for that.)
SET enable_sort = off
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
	v_buckets integer[];
	v_ids bigint[];
	v_more bigint[];
	v_from timestamptz;
	v_to timestamptz;
	v_more_from timestamptz;
	v_more_to timestamptz;
	v_busy timestamptz;
BEGIN
	-- Committed without waiting for the disk (see pakn.intake_process_batch).
	PERFORM set_config('synchronous_commit', 'off', true);
	-- The candidates: those whose lease ran out (036's
	-- inbound_message_lease_idx, none while the workers live), then the
	-- oldest waiting ones (inbound_message_waiting_idx: no message in
	-- flight in it).
	SELECT array_agg(DISTINCT x.b) INTO v_buckets
	  FROM (SELECT hashtext(m.msisdn) & 127 AS b
		  FROM ((SELECT m.id, m.msisdn FROM pakn.inbound_message m
			 WHERE m.state = 'new' AND m.lease_until < now() AND m.attempts > 0
			 ORDER BY m.lease_until LIMIT p_limit)
			UNION ALL
			(SELECT m.id, m.msisdn FROM pakn.inbound_message m
			 WHERE m.state = 'new' AND m.lease_until IS NULL
			 ORDER BY m.id LIMIT p_limit)) m
		 ORDER BY m.id LIMIT p_limit) x
	 WHERE pg_try_advisory_xact_lock(7141748, x.b);
	IF v_buckets IS NULL THEN
		RETURN;
	END IF;
	-- The messages locked first, then updated by their ids (in one
	-- statement, joined with the locked ones, the update read every
	-- message of the month: 25 to 140 ms a claim).
	-- (No other message of its phone in flight, earlier or later: ids
	-- are given as callbacks are stored, but stores commit in any
	-- order, so an earlier message can appear after a later one was
	-- claimed; two batches holding one phone's messages locked its
	-- citizen row in opposite orders: check_pool's
	-- test_shared_citizens, a deadlock. OFFSET 0 keeps that test a
	-- look-up by phone for each candidate: as an anti-join, the kept
	-- plan compared each candidate with every message in flight, 8.1
	-- ms for 256 candidates with 512 in flight, 0.9 ms by look-ups.)
	-- The months that hold a message in flight, from the oldest such
	-- message's (read with the phones' locks held: only this claim can
	-- put one of their messages in flight now), so that the test of a
	-- candidate's phone reads those months' indexes, not every month's
	-- (no message in flight: none).
	SELECT coalesce(min(e.received_at), 'infinity') INTO v_busy
	  FROM pakn.inbound_message e
	 WHERE e.state = 'new' AND e.lease_until IS NOT NULL;
	SELECT coalesce(array_agg(x.id), '{}'), min(x.received_at),
		max(x.received_at) INTO v_ids, v_from, v_to
	  FROM (SELECT m.id, m.received_at FROM pakn.inbound_message m
		 WHERE m.state = 'new' AND m.lease_until < now() AND m.attempts > 0
		   AND (hashtext(m.msisdn) & 127) = ANY (v_buckets)
		   AND NOT EXISTS (SELECT 1 FROM pakn.inbound_message e
			WHERE e.state = 'new' AND e.msisdn = m.msisdn
			  AND e.id <> m.id AND e.lease_until >= now()
			  AND e.received_at >= v_busy OFFSET 0)
		 ORDER BY m.lease_until LIMIT p_limit
		   FOR UPDATE OF m SKIP LOCKED) x;
	IF cardinality(v_ids) < p_limit THEN
		SELECT coalesce(array_agg(x.id), '{}'), min(x.received_at),
			max(x.received_at)
		  INTO v_more, v_more_from, v_more_to
		  FROM (SELECT m.id, m.received_at FROM pakn.inbound_message m
			 WHERE m.state = 'new' AND m.lease_until IS NULL
			   AND (hashtext(m.msisdn) & 127) = ANY (v_buckets)
			   AND NOT EXISTS (SELECT 1 FROM pakn.inbound_message e
				WHERE e.state = 'new' AND e.msisdn = m.msisdn
				  AND e.id <> m.id AND e.lease_until >= now()
				  AND e.received_at >= v_busy OFFSET 0)
			 ORDER BY m.id LIMIT p_limit - cardinality(v_ids)
			   FOR UPDATE OF m SKIP LOCKED) x;
		v_ids := v_ids || v_more;
		v_from := least(v_from, v_more_from);
		v_to := greatest(v_to, v_more_to);
	END IF;
	IF cardinality(v_ids) = 0 THEN
		RETURN;
	END IF;
	-- Their months only (v_from, v_to, as pakn.outbox_claim), by id.
	RETURN QUERY
	WITH u AS (
		UPDATE pakn.inbound_message m
		   SET attempts = m.attempts + 1,
			state = CASE WHEN m.attempts >= 5 THEN 'failed' ELSE 'new' END,
			error = CASE WHEN m.attempts >= 5
				THEN 'claimed 5 times without being processed' END,
			processed_at = CASE WHEN m.attempts >= 5 THEN now() END,
			lease_owner = CASE WHEN m.attempts < 5 THEN p_owner END,
			lease_until = CASE WHEN m.attempts < 5
				THEN now() + make_interval(secs => p_lease) END
		 WHERE m.id = ANY (v_ids)
		   AND m.received_at BETWEEN v_from AND v_to
		RETURNING m.id, m.gateway, m.gateway_msg_id, m.msisdn, m.shortcode,
			m.body, m.state, m.received_at)
	SELECT u.id, u.gateway, u.gateway_msg_id, u.msisdn, u.shortcode, u.body,
		nextval('pakn.ticket_seq'),
		(SELECT s.value FROM pakn.setting s WHERE s.name = 'ticket_key'),
		u.received_at
	  FROM u WHERE u.state = 'new' ORDER BY u.id;
END;
$$;

-- Process one claimed message: what the grammar read in it (p_kind ...
-- p_text, as pakn.handle_inbound_checked takes them), the sender flag and
-- limits paknd computed, and the category its classifier found with the
-- keywords of p_category_version (NULL, or keywords changed since:
-- pakn.category_of decides), and [sms] notice_gather (p_gather, for
-- pakn.notify_unit). The message is marked done in the same
-- transaction as its replies, complaint and ledger rows, so it is
-- processed exactly once; a message not leased to p_owner any more is
-- skipped (state 'skipped'). An error is raised as it is (no
-- subtransaction per message: with dozens of messages a transaction
-- they would overflow every snapshot's cache): paknd runs the message
-- alone again, and if it fails again marks it failed with the reason
-- (pakn.intake_fail) while the rest of its batch commits.
-- (p_gather, [sms] notice_gather, came later: the function is made again.)
DROP FUNCTION IF EXISTS pakn.intake_process(bigint, text, text, boolean,
	text, boolean, text, integer, text, text, jsonb, text, bigint);
CREATE OR REPLACE FUNCTION pakn.intake_process(p_id bigint, p_owner text,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text, p_sender_flag text,
	p_limits jsonb, p_category text, p_category_version bigint,
	p_gather integer DEFAULT 0,
	OUT message_id bigint, OUT replies integer, OUT sender_flag text,
	OUT abuse_flag text, OUT state text, OUT error text)
LANGUAGE plpgsql
-- Generic plans for the whole command (as pakn.outbox_result), by the
-- indexes whatever the tables' sizes when they were made (as
-- pakn.intake_process_batch).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
-- (A scan that must be sequential is costed as if disabled: no JIT
-- compilation for that, 17-48 ms a call.)
SET jit = off
AS $$
DECLARE
	m pakn.inbound_message;
BEGIN
	-- Committed without waiting for the disk (see pakn.intake_process_batch).
	PERFORM set_config('synchronous_commit', 'off', true),
		set_config('pakn.notice_gather', p_gather::text, true);
	message_id := p_id;
	replies := 0;
	-- In its month only (the key's received_at is the message's).
	SELECT * INTO m FROM pakn.inbound_message i
	 WHERE i.id = p_id AND i.received_at = (SELECT k.received_at
		FROM pakn.inbound_key k WHERE k.id = p_id)
	   FOR UPDATE;
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

-- Process a batch of claimed messages in one call (paknd's processing
-- worker): p_msgs, a JSON array in the order they came, of objects with
-- pakn.intake_process's arguments (id, kind, keyword, ticket, ticket_ok,
-- unit, rating, text, sender_flag, limits, category), the categories
-- found with the keywords of p_category_version. Returns one row per
-- message, as pakn.intake_process does, and whether it was processed
-- with the others (batched) or alone. p_gather: [sms] notice_gather (a
-- phone's notices of new complaints held for one SMS, 043).
--
-- The common case is set-based: new complaints (with a keyword, PA, or
-- a bare text from a phone with no complaint waiting for its place) that
-- name a unit's code, or whose place pakn.complaint_locate would find
-- without a choice (one commune named, or the citizen's registered one;
-- none: the complaint waits for it, and the citizen is asked), each
-- from a phone with no other message in the batch, from a sender with
-- no flag, no ban and under its limits, whose category paknd's
-- classifier found with the current keywords. For all of them at once:
-- the complaint rows, routed (pakn.route_fields), the ledger's received,
-- located (when found by name), routed and assigned, the
-- acknowledgement and the unit's notices (pakn.notice_recipients; a
-- phone with notices of several complaints of the group gets one SMS
-- that lists them, new_complaints, 039) or
-- the question where it happened, the messages marked done; a few
-- statements for the batch, not a dozen calls a message. The rows are
-- those pakn.intake_process would write, in the same order (a complaint
-- located by name is written once, already routed, where
-- pakn.complaint_locate updates it: the same row in the end), but for
-- the notices listed together. Status queries (TT) of one's own
-- complaint, from such a phone and sender, under the replies' limit,
-- are answered the same way: the reply pakn.sms_status queues, the
-- messages done (one by one, a query cost PostgreSQL about 600 us, 2.2
-- times a complaint); so are ratings of 3 to 5 of one's own answered
-- complaint with its ticket (DG): what pakn.complaint_rate writes
-- (about 950 us a rating one by one).
-- Every other message, and any of those that is not what it seemed once
-- its phone is locked, goes through pakn.intake_process one by one,
-- after them, in the order they came (a phone's messages in order: a
-- phone with several messages here is never in the set-based part).
-- An error fails the whole call; paknd then runs the batch's messages
-- one by one (pakn.intake_process), so that only the failing one is
-- marked failed.
-- (p_gather came later: the function is made again.)
DROP FUNCTION IF EXISTS pakn.intake_process_batch(text, jsonb, bigint);
CREATE OR REPLACE FUNCTION pakn.intake_process_batch(p_owner text,
	p_msgs jsonb, p_category_version bigint, p_gather integer DEFAULT 0)
RETURNS TABLE (message_id bigint, replies integer, sender_flag text,
	abuse_flag text, state text, error text, batched boolean)
LANGUAGE plpgsql
-- Generic plans (as pakn.intake_process), by the indexes: the plans
-- kept are made at a connection's first call, whatever the tables'
-- sizes then. On a database analyzed while empty (an install's
-- ANALYZE) they read every complaint for each new ticket's check and
-- every citizen for each group's registered communes: a scratch drain
-- with the limits on ran at 968 complaints/s (PostgreSQL 1 738 us a
-- complaint, 1.6 billion rows of pakn.complaint read), 3 901/s by the
-- indexes (check_abuse test_plans_by_index).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
-- (A scan that must be sequential is costed as if disabled: no JIT
-- compilation for that, 17-48 ms a call.)
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
	v_current boolean;
	v_all bigint[];
	v_from timestamptz;
	v_until timestamptz;
	v_rows pakn.inbound_message[];
	v_once text[];
	v_to text[];
	v_ids bigint[];
	v_fast bigint[];
	v_status bigint[];
	v_rate bigint[];
	v_rated bigint[];
	v_asked bigint[];
	v_done bigint[];
	v_new pakn.complaint[];
	v_place jsonb;
	v_example text;
	v_replies jsonb;
	r record;
	p record;
BEGIN
	-- The transaction commits without waiting for its WAL to reach the
	-- disk (synchronous_commit off for it alone; the WAL writer flushes
	-- it within a few hundred milliseconds). Nothing is lost by that:
	-- the messages were stored durably at intake; a crash of PostgreSQL
	-- that loses this transaction loses all of it (its messages are
	-- 'new' again, processed again once it is back, as after a rollback);
	-- and nothing it wrote leaves the database before a later
	-- transaction commits synchronously: an SMS is sent only once the
	-- outbox's claim, which read it, has committed, and that commit
	-- flushes the WAL up to it, this transaction's included (the WAL is
	-- written in order). An official's answer, a transfer, any write
	-- that read what this wrote, flushes it too. What it saves is the
	-- wait for the disk at each group's commit, during which the
	-- worker's connections leave the CPU idle (a drain of 40 000 on two
	-- cores, two rounds: 2 656-2 785 complaints/s with the wait,
	-- 3 004-3 339 without).
	PERFORM set_config('synchronous_commit', 'off', true);
	-- [sms] notice_gather for pakn.notify_unit (the one-by-one path).
	PERFORM set_config('pakn.notice_gather', p_gather::text, true);
	-- What the statements below write names rows they have just read or
	-- written (a category joined, a unit found, the message, the
	-- complaint made): pakn.references_check skips them (045). Not the
	-- one-by-one calls at the end.
	PERFORM set_config('pakn.references_checked', 'on', true);
	v_current := p_category_version IS NOT DISTINCT FROM
		(SELECT v.version FROM pakn.category_version v);
	-- The batch's rows, locked (as pakn.intake_process locks its
	-- message), fetched by their ids alone: joined with the JSON, whose
	-- size the planner does not know, they could be found by scanning
	-- every waiting message for each of the batch's. In their months
	-- only: at, each one's received_at as pakn.intake_claim gave it
	-- (every month's when one has none).
	SELECT array_agg((e->>'id')::bigint),
		CASE WHEN count(*) = count(e->'at')
		THEN min((e->>'at')::timestamptz) ELSE '-infinity' END,
		CASE WHEN count(*) = count(e->'at')
		THEN max((e->>'at')::timestamptz) ELSE 'infinity' END
	  INTO v_all, v_from, v_until
	  FROM jsonb_array_elements(p_msgs) e;
	v_rows := ARRAY(SELECT m FROM pakn.inbound_message m
		WHERE m.id = ANY (v_all) AND m.received_at BETWEEN v_from AND v_until
		ORDER BY m.id FOR UPDATE);
	SELECT array_agg(DISTINCT m.shortcode) INTO v_to FROM unnest(v_rows) m;
	SELECT array_agg(x.msisdn) INTO v_once
	  FROM (SELECT m.msisdn FROM unnest(v_rows) m GROUP BY m.msisdn
		HAVING count(*) = 1) x;
	-- The candidates: the batch's messages still leased to p_owner, of
	-- phones with one message in the batch (and not a number messages
	-- of the batch came to), that read as such a complaint, or as a
	-- status query (TT) or a rating of 3 to 5 (DG) with a well-formed
	-- ticket, or as a bare digit of 3 to 5 (the answer to the rating
	-- question, unless it answers a survey or a list: below). Their
	-- citizens are created and locked (in one order) so that the limits
	-- are counted exactly, as pakn.handle_inbound_checked does.
	-- (Each query joins the JSON and the rows first, MATERIALIZED, then
	-- tests: tests pushed into a nested loop ran once per pair.)
	WITH j AS MATERIALIZED (
		SELECT a.*, m.msisdn, m.state, m.lease_owner
		  FROM jsonb_to_recordset(p_msgs) AS a(id bigint, kind text,
			keyword boolean, unit text, sender_flag text, category text,
			ticket text, ticket_ok boolean, rating integer)
		  JOIN unnest(v_rows) m ON m.id = a.id)
	SELECT array_agg(j.id ORDER BY j.id) INTO v_ids
	  FROM j
	 WHERE j.sender_flag IS NULL
	   AND j.state = 'new' AND j.lease_owner = p_owner
	   AND j.msisdn = ANY (v_once)
	   AND NOT j.msisdn = ANY (v_to)
	   AND ((v_current AND j.kind = 'complaint' AND j.category IS NOT NULL
		 AND EXISTS (SELECT 1 FROM pakn.category c
			WHERE c.code = j.category))
	     OR (j.kind IN ('status', 'rate') AND j.ticket_ok AND j.ticket <> ''
		 AND (j.kind = 'status' OR j.rating BETWEEN 3 AND 5))
	     OR (j.kind = 'digit' AND j.rating BETWEEN 3 AND 5));
	IF v_ids IS NOT NULL THEN
		-- One statement, by the key's index: a lock by a query cached
		-- with the generic plan of an empty table (a new database) read
		-- every citizen. A DO UPDATE whose WHERE holds for no row locks
		-- the rows it finds (FOR NO KEY UPDATE: no key is set) and
		-- changes none.
		INSERT INTO pakn.citizen AS c (msisdn)
		SELECT m.msisdn FROM unnest(v_rows) m
		 WHERE m.id = ANY (v_ids) ORDER BY m.msisdn
		ON CONFLICT (msisdn) DO UPDATE SET updated_at = c.updated_at
		 WHERE false;
		-- A bare text only when no complaint of the phone waits for its
		-- place (else it may be that place: pakn.handle_sms); not an own
		-- number, and nothing pakn.abuse_check finds, as
		-- pakn.handle_inbound_checked asks: no ban; then a phone of an
		-- official or a unit (pakn.abuse_exempt) passes, any other
		-- neither repeats itself nor goes over a limit that is on (a
		-- status query or a rating: the replies' limit; a complaint: the
		-- complaints' too). Its tests here, not called for each
		-- message: a limit that is off costs nothing (pakn.abuse_check,
		-- 78 us a message, was the most of this statement).
		WITH j AS MATERIALIZED (
			SELECT m.*, a.kind, a.keyword, a.limits,
				pakn.abuse_limit(a.limits, 'replies_per_day') AS l_replies,
				pakn.abuse_limit(a.limits, 'complaints_per_hour')
					AS l_hour,
				pakn.abuse_limit(a.limits, 'complaints_per_day') AS l_day,
				coalesce((a.limits->>'repeat_window')::integer, 0)
					AS l_repeat
			  FROM jsonb_to_recordset(p_msgs) AS a(id bigint, kind text,
				keyword boolean, limits jsonb)
			  JOIN unnest(v_rows) m ON m.id = a.id
			 WHERE a.id = ANY (v_ids)),
		-- The counts of the phones a limit that is on applies to.
		cnt AS MATERIALIZED (
			SELECT * FROM pakn.abuse_counts(ARRAY(SELECT DISTINCT j.msisdn
				FROM j WHERE j.l_replies < 2147483647
				   OR (j.kind = 'complaint' AND (j.l_hour < 2147483647
					OR j.l_day < 2147483647)))))
		SELECT array_agg(m.id ORDER BY m.id)
				FILTER (WHERE m.kind = 'complaint'),
			array_agg(m.id ORDER BY m.id) FILTER (WHERE m.kind = 'status'),
			array_agg(m.id ORDER BY m.id)
				FILTER (WHERE m.kind IN ('rate', 'digit'))
		  INTO v_fast, v_status, v_rate
		  FROM j m LEFT JOIN cnt ON cnt.msisdn = m.msisdn
		 WHERE (m.kind IN ('status', 'rate', 'digit') OR m.keyword
			OR pakn.pending_location(m.msisdn) IS NULL)
		   AND NOT EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = m.msisdn)
		   AND NOT EXISTS (SELECT 1 FROM pakn.ban b
			WHERE b.msisdn = m.msisdn)
		   AND ((NOT (m.l_repeat > 0 AND pakn.abuse_repeated(m.gateway,
				m.gateway_msg_id, m.msisdn, m.body, m.l_repeat))
			  AND (m.l_replies = 2147483647 OR cnt.replies < m.l_replies)
			  AND (m.kind <> 'complaint' OR ((m.l_hour = 2147483647
				OR cnt.hour < m.l_hour)
			  AND (m.l_day = 2147483647 OR cnt.day < m.l_day))))
			OR pakn.abuse_exempt(m.msisdn));
	END IF;
	IF v_status IS NOT NULL THEN
		-- Status queries answered here: those whose ticket is one of the
		-- phone's own complaints that does not wait for its place
		-- (pakn.sms_status); any other (not found, another's, or the
		-- question again) goes one by one. (v_asked: their complaints,
		-- in the same order, for the replies.)
		SELECT array_agg(m.id ORDER BY m.id), array_agg(c.id ORDER BY m.id)
		  INTO v_status, v_asked
		  FROM unnest(v_rows) m
		  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint, ticket text)
		    ON a.id = m.id
		  JOIN pakn.complaint c ON c.ticket = a.ticket
			AND c.msisdn = m.msisdn
		 WHERE m.id = ANY (v_status) AND c.status <> 'needs_location';
	END IF;
	IF v_rate IS NOT NULL THEN
		-- Ratings of 3 to 5 answered here (pakn.complaint_rate closes
		-- the complaint): those whose ticket is one of the phone's own
		-- complaints, and bare digits that answer the rating question
		-- (pakn.sms_rate: pakn.rating_pending, the phone's complaint
		-- answered last whose rating was asked; pakn.handle_sms: no
		-- survey takes the digit, no list of communes waits for it),
		-- answered once locked (in one order); any other (not found,
		-- another's, not answered, a survey's or a list's digit) goes
		-- one by one.
		-- Each complaint found first, then locked by its key, in the
		-- order of the keys, and its status read from the locked row:
		-- joined with the complaints whose status is 'answered', the
		-- plan made while few were (statistics of open complaints, then
		-- officials answering many) read every answered complaint for
		-- each rating (check_abuse test_rating_by_phone).
		SELECT array_agg(x.mid ORDER BY x.mid),
			array_agg(x.id ORDER BY x.mid)
		  INTO v_rate, v_rated
		  FROM (SELECT k.mid, l.id, l.status
			  FROM (SELECT m.id AS mid, CASE WHEN a.kind = 'digit'
					THEN pakn.rating_pending(m.msisdn)
					ELSE (SELECT t.id FROM pakn.complaint t
						WHERE t.ticket = a.ticket
						  AND t.msisdn = m.msisdn) END AS cid
				  FROM unnest(v_rows) m
				  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint,
					kind text, ticket text) ON a.id = m.id
				 WHERE m.id = ANY (v_rate)
				   AND (a.kind <> 'digit'
					OR (NOT pakn.survey_takes(m.msisdn)
					    AND pakn.place_choice_pending(m.msisdn)
						IS NULL))
				 ORDER BY 2 OFFSET 0) k
			 CROSS JOIN LATERAL (SELECT c.id, c.status
				  FROM pakn.complaint c WHERE c.id = k.cid
				OFFSET 0 FOR UPDATE) l) x
		 WHERE x.status = 'answered';
	END IF;
	IF v_fast IS NOT NULL OR v_status IS NOT NULL
			OR v_rate IS NOT NULL THEN
		-- The numbers messages came to are ours (pakn.handle_inbound).
		INSERT INTO pakn.own_number (number, gateway)
		SELECT DISTINCT ON (m.shortcode) m.shortcode, m.gateway
		  FROM unnest(v_rows) m
		 WHERE (m.id = ANY (v_fast) OR m.id = ANY (v_status)
			OR m.id = ANY (v_rate))
		   AND NOT EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = m.shortcode)
		 ORDER BY m.shortcode, m.id
		ON CONFLICT DO NOTHING;
	END IF;
	IF v_rate IS NOT NULL THEN
		-- As pakn.complaint_rate for a score of 3 to 5: the rating (its
		-- triggers count it), the ledger's rated and closed, the
		-- complaint closed as confirmed; the reply below.
		INSERT INTO pakn.rating (complaint_id, unit_code, dimension, msisdn,
			score, inbound_id)
		SELECT c.id, c.responsible_unit, c.dimension, c.msisdn, a.rating,
			r.mid
		  FROM unnest(v_rate, v_rated) r(mid, cid)
		  JOIN pakn.complaint c ON c.id = r.cid
		  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint, rating integer)
		    ON a.id = r.mid
		 ORDER BY r.mid;
		INSERT INTO pakn.complaint_event (complaint_id, actor, actor_id,
			event, reason, detail)
		SELECT r.cid, 'citizen', NULL, e.event, e.reason, e.detail
		  FROM unnest(v_rate, v_rated) r(mid, cid)
		  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint, rating integer)
		    ON a.id = r.mid
		 CROSS JOIN LATERAL (VALUES
			(1, 'rated', NULL, jsonb_build_object('score', a.rating)),
			(2, 'closed', 'confirmed', '{}'::jsonb)) e(n, event, reason,
				detail)
		 ORDER BY r.mid, e.n;
		UPDATE pakn.complaint c
		   SET status = 'closed', close_reason = 'confirmed',
			closed_at = now(), rating_asked_at = NULL
		 WHERE c.id = ANY (v_rated);
	END IF;
	IF v_status IS NOT NULL OR v_rate IS NOT NULL THEN
		-- The replies: to a status query what pakn.sms_status queues
		-- (status, or status_answered), to a rating rated_closed (the
		-- closed complaint's variables and the score), one SMS each;
		-- each number's refusal as the outbox's trigger writes it (this
		-- statement skips it).
		PERFORM set_config('pakn.outbox_checked', 'on', true);
		WITH s AS MATERIALIZED (
			SELECT m.id, m.gateway, m.msisdn, c.id AS complaint_id,
				CASE WHEN r.rated THEN 'rated_closed'
				WHEN c.status IN ('answered', 'closed')
					AND c.answer_text IS NOT NULL
				THEN 'status_answered' ELSE 'status' END AS kind,
				CASE WHEN r.rated
				THEN jsonb_build_object('score', a.rating)
				ELSE '{}' END AS extra
			  FROM (SELECT q.mid, q.cid, false AS rated
				  FROM unnest(v_status, v_asked) q(mid, cid)
				UNION ALL
				SELECT q.mid, q.cid, true
				  FROM unnest(v_rate, v_rated) q(mid, cid)) r
			  JOIN unnest(v_rows) m ON m.id = r.mid
			  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint,
				rating integer) ON a.id = m.id
			  JOIN pakn.complaint c ON c.id = r.cid),
		w AS MATERIALIZED (
			SELECT r.msisdn, r.why
			  FROM (SELECT array_agg(DISTINCT s.msisdn) AS a FROM s) x,
				pakn.outbox_refusals(x.a) r)
		INSERT INTO pakn.outbox (gateway, msisdn, body, kind, complaint_id,
			inbound_id, state, last_error)
		SELECT s.gateway, s.msisdn,
			pakn.render(s.kind, pakn.complaint_vars(s.complaint_id)
				|| s.extra),
			s.kind, s.complaint_id, s.id,
			CASE WHEN w.why IS NULL THEN 'queued' ELSE 'failed' END, w.why
		  FROM s JOIN w ON w.msisdn = s.msisdn
		 ORDER BY s.id;
		PERFORM set_config('pakn.outbox_checked', '', true);
	END IF;
	IF v_fast IS NOT NULL THEN
		-- The place of those that name no unit's code, as
		-- pakn.complaint_locate finds it: the one commune the text
		-- names, or the citizen's registered commune when it is one of
		-- those named (both ledgered as located by name) or when none
		-- is named; none named and no registered commune: the complaint
		-- waits for its place and the citizen is asked for it (ask).
		-- Several communes named (the citizen chooses from a list) go
		-- one by one.
		-- The runs of words that may name it come with the message
		-- (place_keys, place_kinds: paknd cuts the text as
		-- pakn.place_spans does); pakn.place_match cuts it here when
		-- they do not.
		WITH j AS MATERIALIZED (
			SELECT m.id, m.msisdn, a.text, a.place_keys, a.place_kinds
			  FROM jsonb_to_recordset(p_msgs) AS a(id bigint, text text,
				unit text, place_keys text[], place_kinds text[])
			  JOIN unnest(v_rows) m ON m.id = a.id
			 WHERE a.id = ANY (v_fast)
			   AND NOT EXISTS (SELECT 1 FROM pakn.unit u
				WHERE u.code = a.unit)),
		-- (pakn.place_named, inlined: what pakn.place_match_spans
		-- finds for one commune or none, in this statement.)
		h AS MATERIALIZED (
			SELECT j.id, c.home_unit AS home,
				CASE WHEN j.place_keys IS NULL
				THEN pakn.place_match(j.text, false, j.msisdn)
				WHEN f.found THEN f.codes
				ELSE pakn.place_match_spans(j.text, j.place_keys,
					j.place_kinds, j.msisdn) END AS codes
			  FROM j CROSS JOIN LATERAL pakn.place_named(j.place_keys,
				j.place_kinds) f
			  LEFT JOIN pakn.citizen c ON c.msisdn = j.msisdn)
		SELECT jsonb_object_agg(h.id::text, jsonb_build_object(
			'unit', CASE WHEN cardinality(h.codes) = 1 THEN h.codes[1]
				WHEN h.home = ANY (h.codes) THEN h.home
				WHEN cardinality(h.codes) = 0 THEN h.home END,
			'named', cardinality(h.codes) = 1 OR h.home = ANY (h.codes),
			'ask', cardinality(h.codes) = 0 AND h.home IS NULL))
		  INTO v_place FROM h;
		IF v_place IS NOT NULL THEN
			v_fast := ARRAY(SELECT f FROM unnest(v_fast) f
				WHERE v_place->(f::text) IS NULL
				   OR v_place->(f::text)->>'unit' IS NOT NULL
				   OR (v_place->(f::text)->>'ask')::boolean
				ORDER BY f);
			IF jsonb_path_exists(v_place, '$.*.ask ? (@ == true)') THEN
				v_example := pakn.example_commune();
			END IF;
			IF v_fast = '{}' THEN
				v_fast := NULL;
			END IF;
		END IF;
	END IF;
	IF v_fast IS NOT NULL THEN
		-- The complaints (pakn.complaint_new), routed at their unit
		-- (or waiting for their place), in the order the messages came
		-- (their tickets too).
		-- The ticket paknd computed (new_ticket: pakn.intake_claim),
		-- unless a complaint has it already (pakn.ticket_encode skips
		-- those too) or none was given: then pakn.ticket_encode's.
		WITH j AS MATERIALIZED (
			SELECT m.id, m.msisdn, m.gateway, a.text,
				CASE WHEN v_place ? (m.id::text)
				THEN v_place->(m.id::text)->>'unit' ELSE a.unit END AS unit,
				a.category, a.new_ticket
			  FROM jsonb_to_recordset(p_msgs) AS a(id bigint, text text,
				unit text, category text, new_ticket text)
			  JOIN unnest(v_rows) m ON m.id = a.id
			 WHERE a.id = ANY (v_fast)),
		f AS (
			SELECT j.id, j.msisdn, j.gateway, j.text, j.unit, cat,
				CASE WHEN j.new_ticket IS NOT NULL
					AND NOT EXISTS (SELECT 1 FROM pakn.complaint c
						WHERE c.ticket = j.new_ticket)
				THEN j.new_ticket
				ELSE pakn.ticket_encode(nextval('pakn.ticket_seq'))
				END AS ticket
			  FROM j JOIN pakn.category cat ON cat.code = j.category
			 ORDER BY j.id),
		g AS (
			SELECT f.*, (f.cat).code = 'general'
				AND pakn.fits_no_category(f.text) AS triage
			  FROM f),
		-- Where each goes (pakn.route_fields), the unit once for each
		-- category, place and triage (all that pakn.route_unit reads of
		-- a new complaint: the record c, made once for each, not for
		-- every complaint: 3 us a complaint), the due date once for
		-- each category (pakn.due_at); materialized, or the planner
		-- calls them for every complaint.
		k AS (
			SELECT DISTINCT ON ((g.cat).code, (g.cat).sensitive, g.triage,
				g.unit) jsonb_populate_record(NULL::pakn.complaint,
				jsonb_build_object('ticket', g.ticket,
				'category_code', (g.cat).code,
				'sensitive', (g.cat).sensitive, 'triage', g.triage,
				'created_at', now())) AS c, g.unit
			  FROM g WHERE g.unit IS NOT NULL),
		d AS MATERIALIZED (
			SELECT x.code, pakn.due_at(x.code, now()) AS due_at
			  FROM (SELECT DISTINCT (k.c).category_code AS code FROM k) x),
		-- A complaint neither sensitive nor to be triaged goes where
		-- pakn.route_places sends it, inlined here for all of them in
		-- one statement (the functions' calls, one for each unit, were
		-- a sixth of a batch of complaints of as many communes). The
		-- others by pakn.route_unit.
		rf AS MATERIALIZED (
			SELECT (k.c).category_code, (k.c).sensitive, (k.c).triage,
				k.unit, r.unit AS responsible, d.due_at, r.desk_reason
			  FROM k CROSS JOIN LATERAL (
				SELECT x.unit, x.desk_reason
				  FROM pakn.route_unit(k.c, k.unit) x
				 WHERE (k.c).sensitive OR (k.c).triage
				UNION ALL
				SELECT x.unit, NULL::text
				  FROM pakn.route_places((k.c).category_code, k.unit) x
				 WHERE NOT ((k.c).sensitive OR (k.c).triage)) r
			  JOIN d ON d.code = (k.c).category_code),
		-- Each complaint's route found by its key in one object: joined
		-- with rf, whose size the planner does not know, the complaints
		-- were compared with every route (a nested loop: 128 x 128 for
		-- a group of as many communes).
		rm AS MATERIALIZED (
			SELECT jsonb_object_agg(concat_ws('|', rf.category_code,
				rf.sensitive, rf.triage, rf.unit), jsonb_build_object(
				'unit', rf.responsible, 'due', rf.due_at,
				'desk', rf.desk_reason)) AS m
			  FROM rf),
		i AS (
			INSERT INTO pakn.complaint AS x (ticket, msisdn, gateway,
				inbound_id, category_code, dimension, sensitive, status,
				text, triage, location_unit, responsible_unit, routed_at,
				due_at, desk_reason)
			SELECT g.ticket, g.msisdn, g.gateway, g.id,
				(g.cat).code, (g.cat).dimension, (g.cat).sensitive,
				CASE WHEN g.unit IS NULL THEN 'needs_location' ELSE 'open'
				END, g.text, g.triage, g.unit, r.v->>'unit',
				CASE WHEN g.unit IS NOT NULL THEN now() END,
				(r.v->>'due')::timestamptz, r.v->>'desk'
			  FROM g CROSS JOIN rm
			 CROSS JOIN LATERAL (SELECT CASE WHEN g.unit IS NOT NULL
				THEN rm.m->concat_ws('|', (g.cat).code, (g.cat).sensitive,
					g.triage, g.unit) END AS v) r
			 ORDER BY g.id
			RETURNING x)
		SELECT array_agg(i.x ORDER BY (i.x).id) INTO v_new FROM i;
		-- The ledger: received, then for one with its place, located
		-- (found by name: pakn.place_found), routed, assigned, complaint
		-- by complaint. What a routed event adds to the statistics, as
		-- pakn.stat_of_event gives it (the unit it went to, the day, its
		-- dimension and category, one received), written here for the
		-- batch, one row for the complaints alike (pakn.stats_fold sums
		-- them): the ledger's trigger skips this statement (033).
		PERFORM set_config('pakn.stats_counted', 'on', true);
		WITH ev AS (
		INSERT INTO pakn.complaint_event (complaint_id, actor, actor_id,
			event, reason, detail)
		SELECT c.id, e.actor, NULL, e.event, NULL, e.detail
		  FROM unnest(v_new) c
		  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint, keyword boolean)
		    ON a.id = c.inbound_id
		 CROSS JOIN LATERAL (VALUES
			(1, 'citizen', 'received', jsonb_build_object('category',
				c.category_code, 'keyword', a.keyword)),
			(2, 'citizen', 'located', jsonb_build_object('unit',
				c.location_unit, 'how', 'name')),
			(3, 'system', 'routed', jsonb_build_object('location',
				c.location_unit, 'unit', c.responsible_unit,
				'due_at', c.due_at)),
			(4, 'system', 'assigned', jsonb_build_object('unit',
				c.responsible_unit))) e(n, actor, event, detail)
		 WHERE e.n = 1 OR (c.location_unit IS NOT NULL
			AND (e.n <> 2 OR coalesce((v_place->(c.inbound_id::text)
				->>'named')::boolean, false)))
		 ORDER BY c.id, e.n
		RETURNING complaint_id, event, at, detail)
		INSERT INTO pakn.stat_delta (unit_code, day, dimension, category,
			received)
		SELECT ev.detail->>'unit', pakn.local_date(ev.at), c.dimension,
			c.category_code, count(*)
		  FROM ev JOIN unnest(v_new) c ON c.id = ev.complaint_id
		 WHERE ev.event = 'routed' AND ev.detail->>'unit' IS NOT NULL
		   AND c.dimension IS NOT NULL
		 GROUP BY 1, 2, 3, 4;
		PERFORM set_config('pakn.stats_counted', '', true);
		-- The acknowledgement, then the unit's notices (pakn.notify_unit:
		-- a recipient found above the unit gets the fallback text when
		-- there is one), complaint by complaint; to one waiting for its
		-- place, the question (pakn.complaint_locate) alone. Each
		-- number's refusal once (pakn.outbox_refusals, inlined), written
		-- as the outbox's trigger writes it, which this statement skips.
		-- The template variables once for the complaints alike in all
		-- but their ticket, text, who sent them and where they go
		-- (pakn.complaint_vars reads no other field of those but the
		-- unit's name), then each one's own ticket, text and unit as
		-- pakn.complaint_vars writes them. Alike: the same in the
		-- columns the complaints' INSERT above sets but those (every
		-- other column of a new complaint has its default). (The whole
		-- row as JSON less those fields, the key before, cost 19 us a
		-- complaint.)
		PERFORM set_config('pakn.outbox_checked', 'on', true);
		WITH k AS (
			SELECT c.id, ROW(c.category_code, c.dimension, c.sensitive,
				c.status, c.triage, c.routed_at, c.due_at) AS alike
			  FROM unnest(v_new) c WHERE c.location_unit IS NOT NULL),
		kv AS MATERIALIZED (
			SELECT x.alike, pakn.complaint_vars(x.id) AS vars
			  FROM (SELECT DISTINCT ON (k.alike) k.alike, k.id
				  FROM k ORDER BY k.alike, k.id) x),
		v AS (
			SELECT c.id, c.gateway, c.msisdn, c.inbound_id,
				c.responsible_unit, coalesce(c.new_due_at, c.due_at) AS due_at,
				CASE WHEN c.location_unit IS NULL
				THEN jsonb_build_object('ticket', c.ticket,
					'example', v_example)
				ELSE kv.vars || jsonb_build_object('ticket', c.ticket,
					'text', left(c.text, 100),
					'unit', coalesce(un.name, '')) END AS vars,
				CASE WHEN c.location_unit IS NOT NULL
				THEN CASE WHEN a.keyword THEN 'ack' ELSE 'ack_nokeyword' END
				WHEN a.keyword THEN 'ask_location'
				ELSE 'ask_location_nokeyword' END AS ack
			  FROM unnest(v_new) c
			  LEFT JOIN k ON k.id = c.id
			  LEFT JOIN kv ON kv.alike = k.alike
			  LEFT JOIN pakn.unit un ON un.code = c.responsible_unit
			  JOIN jsonb_to_recordset(p_msgs) AS a(id bigint,
				keyword boolean) ON a.id = c.inbound_id),
		u AS (
			SELECT DISTINCT v.responsible_unit FROM v
			 WHERE v.responsible_unit IS NOT NULL),
		-- Whom each unit's notices go to (pakn.notice_recipients,
		-- inlined: for all the units in one statement; materialized,
		-- as rf above). n orders a unit's recipients.
		rcp AS MATERIALIZED (
			SELECT u.responsible_unit, r.r_phone, r.r_fallback,
				row_number() OVER (PARTITION BY u.responsible_unit
					ORDER BY r.r_phone) AS n
			  FROM u CROSS JOIN LATERAL pakn.notice_recipients(
				u.responsible_unit, '{officer,leader}') r),
		-- The unit's notices, one a complaint and recipient; k of them
		-- to one phone in this group (j the complaint's place among
		-- them, by id).
		nt0 AS (
			SELECT v.id, rcp.n, v.gateway, rcp.r_phone AS msisdn,
				CASE WHEN rcp.r_fallback AND EXISTS (SELECT 1
					FROM pakn.template t
					WHERE t.code = 'new_complaint_fallback')
				THEN 'new_complaint_fallback' ELSE 'new_complaint' END
				AS kind, v.vars, v.due_at
			  FROM v JOIN rcp USING (responsible_unit)),
		-- A phone that got a notice of a new complaint less than
		-- p_gather seconds ago, or has some held, gets them later in one
		-- SMS ([sms] notice_gather; pakn.notice_waits, pakn.notice_flush):
		-- held as one row a phone, listed as below (the phones apart
		-- first: asked once each, not once a notice).
		ph AS MATERIALIZED (SELECT DISTINCT nt0.msisdn FROM nt0),
		hold AS MATERIALIZED (
			SELECT ph.msisdn FROM ph
			 WHERE pakn.notice_waits(ph.msisdn, p_gather)),
		hn AS (
			SELECT nt0.*, row_number() OVER (PARTITION BY nt0.gateway,
				nt0.msisdn, nt0.kind ORDER BY nt0.id) AS j
			  FROM nt0 JOIN hold USING (msisdn)),
		held AS (
			INSERT INTO pakn.notice_held (msisdn, complaint_id, gateway,
				kind, complaints, tickets, units, due_at)
			SELECT hn.msisdn, min(hn.id), hn.gateway, hn.kind, count(*),
				array_agg(hn.vars->>'ticket' ORDER BY hn.id)
					FILTER (WHERE hn.j <= 8),
				array_agg(DISTINCT hn.vars->>'unit'), min(hn.due_at)
			  FROM hn GROUP BY hn.msisdn, hn.gateway, hn.kind
			ON CONFLICT DO NOTHING),
		nt AS (
			SELECT nt0.*,
				count(*) OVER w AS k, row_number() OVER (w ORDER BY nt0.id) AS j
			  FROM nt0
			 WHERE NOT EXISTS (SELECT 1 FROM hold
				WHERE hold.msisdn = nt0.msisdn)
			WINDOW w AS (PARTITION BY nt0.gateway, nt0.msisdn, nt0.kind)),
		-- A phone with notices of several complaints of the group gets
		-- one SMS that lists them (new_complaints, or its _fallback):
		-- how many, their units, the earliest date and the first eight
		-- tickets (XEM shows each, DS the queue). A burst does not send
		-- an official one SMS a complaint.
		dg0 AS (
			SELECT min(nt.id) AS id, min(nt.n) AS n, nt.gateway, nt.msisdn,
				replace(nt.kind, 'new_complaint', 'new_complaints') AS kind,
				max(nt.k) AS k, string_agg(nt.vars->>'ticket', ', '
					ORDER BY nt.id) FILTER (WHERE nt.j <= 8) AS tickets,
				array_agg(DISTINCT nt.vars->>'unit') AS units,
				min(nt.due_at) AS due_at
			  FROM nt WHERE nt.k > 1
			 GROUP BY nt.gateway, nt.msisdn, nt.kind),
		dg AS (
			SELECT dg0.id, dg0.n, dg0.gateway, dg0.msisdn, dg0.kind,
				pakn.notices_vars(dg0.k, dg0.tickets, dg0.units,
					dg0.due_at) AS vars
			  FROM dg0),
		o AS (
			SELECT v.id, 0::bigint AS n, v.gateway, v.msisdn, v.ack AS kind,
				v.vars, v.inbound_id, false AS digest
			  FROM v
			UNION ALL
			SELECT nt.id, nt.n, nt.gateway, nt.msisdn, nt.kind, nt.vars,
				NULL, false
			  FROM nt WHERE nt.k = 1
			UNION ALL
			SELECT dg.id, dg.n, dg.gateway, dg.msisdn, dg.kind, dg.vars,
				NULL, true
			  FROM dg),
		-- Each text once: the unit's notices of a complaint are alike.
		-- A template is rendered once for the complaints alike
		-- (pakn.render, about 20 us a call), then given each one's
		-- ticket, text and unit: what pakn.render gives while no value
		-- holds a '{' (one that does is rendered alone, as before).
		b0 AS (
			SELECT DISTINCT ON (o.id, o.kind) o.id, o.kind, o.vars,
				o.vars - '{ticket,text,unit}'::text[] AS shared
			  FROM o WHERE NOT o.digest),
		pre AS MATERIALIZED (
			SELECT x.kind, x.shared, pakn.render(x.kind, x.shared) AS body
			  FROM (SELECT DISTINCT b0.kind, b0.shared FROM b0) x
			 WHERE NOT EXISTS (SELECT 1 FROM jsonb_each_text(x.shared) e
				WHERE e.value LIKE '%{%')),
		-- (The question to one waiting for its place has no text or
		-- unit: rendered alone too.)
		b AS (
			SELECT b0.id, b0.kind,
				CASE WHEN pre.body IS NOT NULL
					AND b0.vars ?& '{ticket,text,unit}'::text[]
					AND concat(b0.vars->>'ticket', b0.vars->>'text',
						b0.vars->>'unit') NOT LIKE '%{%'
				THEN replace(replace(replace(pre.body,
					'{ticket}', coalesce(b0.vars->>'ticket', '')),
					'{text}', coalesce(b0.vars->>'text', '')),
					'{unit}', coalesce(b0.vars->>'unit', ''))
				ELSE pakn.render(b0.kind, b0.vars) END AS body
			  FROM b0 LEFT JOIN pre ON pre.kind = b0.kind
				AND pre.shared = b0.shared),
		w AS MATERIALIZED (
			SELECT r.msisdn, r.why
			  FROM (SELECT array_agg(DISTINCT o.msisdn) AS a FROM o) x,
				pakn.outbox_refusals(x.a) r),
		q AS (
			INSERT INTO pakn.outbox (gateway, msisdn, body, kind,
				complaint_id, inbound_id, state, last_error)
			SELECT o.gateway, o.msisdn, CASE WHEN o.digest
				THEN pakn.render(o.kind, o.vars) ELSE b.body END, o.kind,
				CASE WHEN NOT o.digest THEN o.id END, o.inbound_id,
				CASE WHEN w.why IS NULL THEN 'queued' ELSE 'failed' END,
				w.why
			  FROM o LEFT JOIN b ON b.id = o.id AND b.kind = o.kind
				AND NOT o.digest
			  JOIN w ON w.msisdn = o.msisdn
			 WHERE o.msisdn NOT LIKE 'open311:%'
			 ORDER BY o.id, o.n)
		-- The SMS queued, as pakn.reply counts them (one a row, even
		-- one an outbox trigger leaves out).
		SELECT jsonb_object_agg(x.inbound_id::text, y.n) INTO v_replies
		  FROM unnest(v_new) x
		  JOIN (SELECT o.id, count(*)::integer AS n FROM o GROUP BY o.id) y
		    ON y.id = x.id;
		PERFORM set_config('pakn.outbox_checked', '', true);
	END IF;
	-- Those processed here, done.
	v_done := coalesce(v_fast, '{}') || coalesce(v_status, '{}')
		|| coalesce(v_rate, '{}');
	IF v_done <> '{}' THEN
		UPDATE pakn.inbound_message i
		   SET state = 'done', processed_at = clock_timestamp(),
			lease_owner = NULL, lease_until = NULL
		 WHERE i.id = ANY (v_done)
		   AND i.received_at BETWEEN v_from AND v_until;
	END IF;
	PERFORM set_config('pakn.references_checked', '', true);
	-- The others, one by one, in the order they came.
	FOR r IN SELECT a.*
		  FROM jsonb_array_elements(p_msgs) WITH ORDINALITY e(j, n)
		 CROSS JOIN LATERAL jsonb_to_record(e.j) AS a(id bigint,
			kind text, keyword boolean, ticket text, ticket_ok boolean,
			unit text, rating integer, text text, sender_flag text,
			limits jsonb, category text)
		 ORDER BY e.n LOOP
		IF r.id = ANY (v_done) THEN
			message_id := r.id;
			replies := CASE WHEN r.id = ANY (coalesce(v_fast, '{}'))
				THEN (v_replies->>(r.id::text))::integer ELSE 1 END;
			sender_flag := NULL;
			abuse_flag := NULL;
			state := 'done';
			error := NULL;
			batched := true;
			RETURN NEXT;
			CONTINUE;
		END IF;
		SELECT * INTO p FROM pakn.intake_process(r.id, p_owner, r.kind,
			r.keyword, r.ticket, r.ticket_ok, r.unit, r.rating, r.text,
			r.sender_flag, r.limits, r.category, p_category_version,
			p_gather) x;
		message_id := p.message_id;
		replies := p.replies;
		sender_flag := p.sender_flag;
		abuse_flag := p.abuse_flag;
		state := p.state;
		error := p.error;
		batched := false;
		RETURN NEXT;
	END LOOP;
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

-- Messages whose processing failed, the newest first, for operators
-- (paknctl failed): those received on or after p_since (a local date;
-- NULL: all), at most p_limit, with how many times an operator put each
-- back before (pakn.inbound_retry) and how many there are in all.
-- (inbound_message's failed index.)
CREATE OR REPLACE FUNCTION pakn.intake_failed(p_since date, p_limit integer)
RETURNS TABLE (id bigint, received_at timestamptz, gateway text,
	msisdn text, body text, attempts integer, error text, retries bigint,
	total bigint)
LANGUAGE sql STABLE AS $$
	SELECT m.id, m.received_at, m.gateway, m.msisdn, m.body, m.attempts,
		m.error, (SELECT count(*) FROM pakn.inbound_retry r
			   WHERE r.message_id = m.id),
		count(*) OVER ()
	  FROM pakn.inbound_message m
	 WHERE m.state = 'failed'
	   AND (p_since IS NULL OR m.received_at >=
		p_since::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
	 ORDER BY m.id DESC
	 LIMIT p_limit
$$;

-- Put failed messages back for processing (paknctl retry), once what
-- made them fail is mended: those of p_ids, or every failed one when
-- p_ids is NULL; with p_error, only those whose error holds that text.
-- Each is 'new' again, its error and claims cleared, and the next claim
-- takes it like any stored message (the oldest first, before its
-- phone's later ones not yet processed): processed once, in the
-- transaction that queues its replies, or failed again with the new
-- reason. What it had failed with, who (p_actor) and when: a row of
-- pakn.inbound_retry each. Returns each message put back (retried),
-- then each of p_ids that was not, with its state (NULL: no such
-- message).
CREATE OR REPLACE FUNCTION pakn.intake_retry(p_ids bigint[], p_error text,
	p_actor text)
RETURNS TABLE (message_id bigint, state text, retried boolean)
LANGUAGE sql AS $$
	WITH f AS (
		SELECT m.id, m.received_at, m.error, m.attempts
		  FROM pakn.inbound_message m
		 WHERE m.state = 'failed'
		   AND (p_ids IS NULL OR m.id = ANY (p_ids))
		   AND (p_error IS NULL OR strpos(m.error, p_error) > 0)
		   FOR UPDATE),
	l AS (
		INSERT INTO pakn.inbound_retry (message_id, error, attempts, actor)
		SELECT f.id, f.error, f.attempts, p_actor FROM f),
	u AS (
		UPDATE pakn.inbound_message m
		   SET state = 'new', error = NULL, attempts = 0,
			processed_at = NULL, lease_owner = NULL, lease_until = NULL
		  FROM f
		 WHERE m.id = f.id AND m.received_at = f.received_at
		RETURNING m.id)
	SELECT x.id, x.state, x.retried
	  FROM (SELECT u.id, 'failed'::text AS state, true AS retried FROM u
		UNION ALL
		SELECT a.id, m.state, false
		  FROM (SELECT DISTINCT a.id FROM unnest(p_ids) a(id)) a
		  LEFT JOIN pakn.inbound_message m ON m.id = a.id
		 WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.id = a.id)) x
	 ORDER BY x.retried DESC, x.id
$$;
