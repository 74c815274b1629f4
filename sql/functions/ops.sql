-- functions/ops.sql: operations: metrics gauges, shared send rates,
-- retention of personal data (paknctl purge).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Messages not yet sent per gateway (queued or being sent) with the age
-- in seconds of the oldest, and the open complaints past their due date
-- with the age of the most overdue. The scans use partial indexes
-- (outbox_due_idx and outbox_lease_idx, complaint_due_idx); paknd caches
-- the answer a few seconds. Index scans, not bitmap scans: the entries
-- of messages sent since the last vacuum stay in the outbox's indexes,
-- and a bitmap scan fetched their rows at every scrape (0.1-0.2 s with
-- 200 000 of them) where an index scan marks them dead for the next.
CREATE OR REPLACE FUNCTION pakn.metrics_gauges()
RETURNS TABLE (metric text, gateway text, n bigint, age double precision)
LANGUAGE sql STABLE
SET enable_bitmapscan = off
AS $$
	SELECT 'outbox', o.gateway, count(*),
	       extract(epoch FROM now() - min(o.created_at))::float8
	  FROM (SELECT q.gateway, q.created_at FROM pakn.outbox q
		 WHERE q.state = 'queued'
		UNION ALL
		SELECT s.gateway, s.created_at FROM pakn.outbox s
		 WHERE s.state = 'sending') o
	 GROUP BY o.gateway
	UNION ALL
	SELECT 'overdue', NULL, count(*),
	       coalesce(extract(epoch FROM now() - min(c.due_at))::float8, 0)
	  FROM pakn.complaint c
	 WHERE c.status = 'open' AND c.due_at <= now()
	UNION ALL
	SELECT g.metric, NULL, g.n, g.age
	  FROM pakn.intake_backlog() b,
	       LATERAL (VALUES ('backlog', b.waiting, b.oldest_age),
		('failed', b.failed, 0::float8)) g (metric, n, age)
$$;

-- The pseudonym a purged number is kept as (a citizen row of its own,
-- since complaints reference pakn.citizen).
CREATE OR REPLACE FUNCTION pakn.purge_number(p_msisdn text) RETURNS text
LANGUAGE sql AS $$
	INSERT INTO pakn.citizen (msisdn)
	VALUES (coalesce(pakn.api_pseudonym(p_msisdn), 'CD-PURGED'))
	ON CONFLICT DO NOTHING;
	SELECT coalesce(pakn.api_pseudonym(p_msisdn), 'CD-PURGED')
$$;

-- Remove the personal data of complaints closed before p_before (a local
-- date) and what belongs to them; with p_dry_run only count. One ledger
-- event 'purged' per complaint (actor system, by p_actor). Returns the
-- counts as jsonb.
CREATE OR REPLACE FUNCTION pakn.purge_personal(p_before date, p_actor text,
	p_dry_run boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_limit timestamptz := (p_before::timestamp AT TIME ZONE
		'Asia/Ho_Chi_Minh');
	n_c integer; n_m integer; n_o integer; n_r integer; n_u integer;
	n_z integer;
BEGIN
	IF p_before > pakn.local_date(now()) THEN
		RAISE EXCEPTION 'purge: % is in the future', p_before
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	CREATE TEMPORARY TABLE purge_c ON COMMIT DROP AS
		SELECT c.id, c.msisdn, c.inbound_id FROM pakn.complaint c
		 WHERE c.purged_at IS NULL
		   AND c.status IN ('closed', 'withdrawn', 'rejected')
		   AND coalesce(c.closed_at, c.answered_at, c.created_at)
			< v_limit;
	-- Citizens with nothing open keep no message of before the date.
	CREATE TEMPORARY TABLE purge_m ON COMMIT DROP AS
		SELECT m.id, m.msisdn FROM pakn.inbound_message m
		 WHERE m.body <> '' AND (m.id IN (SELECT inbound_id FROM purge_c)
		    OR (m.received_at < v_limit AND NOT EXISTS (
			SELECT 1 FROM pakn.complaint o WHERE o.msisdn = m.msisdn
			   AND o.status IN ('needs_location', 'open', 'answered'))));
	SELECT count(*) INTO n_c FROM purge_c;
	SELECT count(*) INTO n_m FROM purge_m;
	SELECT count(*) INTO n_o FROM pakn.outbox o
	 WHERE o.complaint_id IN (SELECT id FROM purge_c)
	   AND o.state NOT IN ('queued', 'sending');
	SELECT count(*) INTO n_r FROM pakn.rating r
	 WHERE r.complaint_id IN (SELECT id FROM purge_c);
	SELECT count(*) INTO n_u FROM pakn.ussd_session s
	 WHERE s.updated_at < v_limit;
	IF NOT p_dry_run THEN
		INSERT INTO pakn.complaint_event (complaint_id, actor, actor_id,
			event, reason, detail)
		SELECT id, 'system', p_actor, 'purged', 'retention',
		       jsonb_build_object('before', p_before)
		  FROM purge_c;
		UPDATE pakn.complaint c SET msisdn = pakn.purge_number(c.msisdn),
			text = '', answer_text = NULL, purged_at = now()
		 WHERE c.id IN (SELECT id FROM purge_c);
		UPDATE pakn.rating r SET msisdn = pakn.purge_number(r.msisdn)
		 WHERE r.complaint_id IN (SELECT id FROM purge_c);
		UPDATE pakn.outbox o SET msisdn = pakn.purge_number(o.msisdn),
			body = '-'
		 WHERE o.complaint_id IN (SELECT id FROM purge_c)
		   AND o.state NOT IN ('queued', 'sending');
		-- (A failed message's error, and what an operator's retry kept
		-- of it, may quote its text: 'purged' too.)
		UPDATE pakn.inbound_message m
		   SET msisdn = pakn.purge_number(m.msisdn), body = '',
		       raw_body = '', raw_request = 'purged',
		       error = CASE WHEN m.error IS NOT NULL THEN 'purged' END
		 WHERE m.id IN (SELECT id FROM purge_m);
		UPDATE pakn.inbound_retry r SET error = 'purged'
		 WHERE r.message_id IN (SELECT id FROM purge_m)
		   AND r.error IS NOT NULL;
		-- A flagged sender whose flagged messages all lost its number.
		PERFORM pakn.flagged_sender_prune(ARRAY(SELECT DISTINCT msisdn
			FROM purge_m));
		DELETE FROM pakn.ussd_session s WHERE s.updated_at < v_limit;
		DELETE FROM pakn.citizen z
		 WHERE z.msisdn IN (SELECT msisdn FROM purge_c
				    UNION SELECT msisdn FROM purge_m)
		   AND NOT z.opted_out
		   AND NOT EXISTS (SELECT 1 FROM pakn.complaint c
				    WHERE c.msisdn = z.msisdn)
		   AND NOT EXISTS (SELECT 1 FROM pakn.inbound_message m
				    WHERE m.msisdn = z.msisdn)
		   AND NOT EXISTS (SELECT 1 FROM pakn.rating r
				    WHERE r.msisdn = z.msisdn);
		GET DIAGNOSTICS n_z = ROW_COUNT;
	END IF;
	RETURN jsonb_build_object('before', p_before, 'dry_run', p_dry_run,
		'complaints', n_c, 'messages', n_m, 'replies', n_o,
		'ratings', n_r, 'ussd_sessions', n_u,
		'citizens_removed', coalesce(n_z, 0));
END;
$$;
