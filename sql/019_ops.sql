-- 019: operations. The gauges GET /metrics reads from the database (no
-- personal data: counts and ages per gateway), and each gateway's send
-- rate shared by every paknd on the database, and the retention of
-- personal data (paknctl purge).

-- Messages not yet sent per gateway (queued or being sent) with the age
-- in seconds of the oldest, and the open complaints past their due date
-- with the age of the most overdue. Both scans use partial indexes
-- (outbox_due_idx, complaint_due_idx); paknd caches the answer a few
-- seconds.
CREATE FUNCTION pakn.metrics_gauges()
RETURNS TABLE (metric text, gateway text, n bigint, age double precision)
LANGUAGE sql STABLE AS $$
	SELECT 'outbox', o.gateway, count(*),
	       extract(epoch FROM now() - min(o.created_at))::float8
	  FROM pakn.outbox o
	 WHERE o.state IN ('queued', 'sending')
	 GROUP BY o.gateway
	UNION ALL
	SELECT 'overdue', NULL, count(*),
	       coalesce(extract(epoch FROM now() - min(c.due_at))::float8, 0)
	  FROM pakn.complaint c
	 WHERE c.status = 'open' AND c.due_at <= now()
$$;

-- Sends granted per gateway and second, across every paknd on this
-- database: [gateway] rate is the gateway's, not each instance's. A row
-- lives ten minutes (kept for a look at what was granted).
CREATE TABLE pakn.send_rate (
	gateway text NOT NULL,
	second  timestamptz NOT NULL,
	granted integer NOT NULL DEFAULT 0 CHECK (granted >= 0),
	PRIMARY KEY (gateway, second)
);

-- Grant up to p_want sends through p_gateway in the current second,
-- without the second's grants passing p_rate; returns how many, and the
-- milliseconds left in the second (the grant lapses then: paknd drops
-- what it could not use, so an unused grant never adds to a later
-- second). The row lock orders instances taking from the same second.
CREATE FUNCTION pakn.rate_take(p_gateway text, p_rate integer,
	p_want integer)
RETURNS TABLE (granted integer, ms_left integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_now timestamptz := clock_timestamp();
	v_sec timestamptz := date_trunc('second', v_now);
	v_had integer;
BEGIN
	INSERT INTO pakn.send_rate (gateway, second) VALUES (p_gateway, v_sec)
	ON CONFLICT DO NOTHING;
	SELECT r.granted INTO v_had FROM pakn.send_rate r
	 WHERE r.gateway = p_gateway AND r.second = v_sec FOR UPDATE;
	granted := greatest(0, least(p_want, p_rate - v_had));
	IF granted > 0 THEN
		UPDATE pakn.send_rate r SET granted = r.granted + rate_take.granted
		 WHERE r.gateway = p_gateway AND r.second = v_sec;
	END IF;
	IF v_had = 0 THEN
		DELETE FROM pakn.send_rate r WHERE r.gateway = p_gateway
		   AND r.second < v_sec - interval '10 minutes';
	END IF;
	-- Counted from now: waiting for the lock took some of the second.
	ms_left := greatest(0, 1000 - ceil(extract(epoch FROM
		clock_timestamp() - v_sec) * 1000)::integer);
	RETURN NEXT;
END;
$$;

-- Retention of personal data (paknctl purge --before DATE). Vietnam's
-- Decree 13/2023/ND-CP on personal data protection (art. 16: personal
-- data is deleted when its purpose is fulfilled) and the Law on
-- Personal Data Protection 91/2025/QH15 (in force 1 January 2026) ask
-- that data be kept no longer than its purpose needs. A complaint
-- closed, withdrawn or rejected before the date keeps its ticket, unit,
-- category, dates and ledger (statistics are computed from those and
-- stay as they are) but loses the citizen's number (replaced by the
-- pseudonym officials saw), its text and the answer's text; so do the
-- messages, ratings and replies that belong to it, and the messages of
-- that date of citizens with nothing open. A citizen row left with no
-- complaint, no message and no opt-out goes; an opt-out stays (it must
-- keep being honoured).
ALTER TABLE pakn.complaint ADD COLUMN purged_at timestamptz;
COMMENT ON COLUMN pakn.complaint.purged_at IS
	'personal data removed by pakn.purge_personal (paknctl purge)';

-- The pseudonym a purged number is kept as (a citizen row of its own,
-- since complaints reference pakn.citizen).
CREATE FUNCTION pakn.purge_number(p_msisdn text) RETURNS text
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
CREATE FUNCTION pakn.purge_personal(p_before date, p_actor text,
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
		UPDATE pakn.inbound_message m
		   SET msisdn = pakn.purge_number(m.msisdn), body = '',
		       raw_body = '', raw_request = 'purged'
		 WHERE m.id IN (SELECT id FROM purge_m);
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
