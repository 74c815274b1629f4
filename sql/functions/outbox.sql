
CREATE OR REPLACE FUNCTION pakn.outbox_claim(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, gateway text, msisdn text, body text,
	attempts integer, created_at timestamptz)
LANGUAGE sql AS $$
	UPDATE pakn.outbox o
	   SET state = 'sending', attempts = o.attempts + 1,
	       lease_until = now() + make_interval(secs => p_lease_seconds)
	 WHERE (o.id, o.created_at) IN (
		SELECT q.id, q.created_at FROM pakn.outbox q
		 WHERE q.state IN ('queued', 'sending')
		   AND CASE q.state WHEN 'queued' THEN q.next_attempt_at <= now()
			ELSE q.lease_until < now() END
		 ORDER BY q.next_attempt_at, q.id
		 LIMIT p_limit
		   FOR UPDATE SKIP LOCKED)
	RETURNING o.id, o.gateway, o.msisdn, o.body, o.attempts, o.created_at
$$;

-- Record the outcomes of sends, in one statement: p_results is a JSON
-- array of {id, created_at (names the month's partition), outcome (sent,
-- retry, failed), ref, error, segments, encoding}. A message still
-- 'sending' becomes sent, queued again (retry, attempts left: after a
-- backoff of p_retry_base * 2^(attempts - 1) seconds, at most an hour,
-- jittered) or failed. A delivery report may commit before our own
-- 'sent' (Kannel's fake SMSC reports at once): its state stays, what we
-- know is recorded. Any other message is left as it is. Returns each
-- message's state after, in p_results' order ('missing': no such row).
-- The rows are locked in id order, so two batches never deadlock.
CREATE OR REPLACE FUNCTION pakn.outbox_results(p_results jsonb,
	p_max_attempts integer, p_retry_base double precision)
RETURNS TABLE (id bigint, state text)
LANGUAGE plpgsql
-- Generic plans, pruned to the month when they run: a custom plan (chosen
-- because pruning makes it look cheaper) is planned again at every call.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH r AS (
		SELECT * FROM ROWS FROM (jsonb_to_recordset(p_results)
			AS (id bigint, created_at timestamptz, outcome text, ref text,
				error text, segments integer, encoding text))
			WITH ORDINALITY AS r(id, created_at, outcome, ref, error,
				segments, encoding, i)),
	l AS (
		SELECT x.id, x.created_at FROM pakn.outbox x
		  JOIN r ON x.id = r.id AND x.created_at = r.created_at
		 ORDER BY x.id FOR UPDATE OF x),
	u AS (
		UPDATE pakn.outbox x SET
			state = CASE WHEN x.state <> 'sending' THEN x.state
				WHEN r.outcome = 'sent' THEN 'sent'
				WHEN r.outcome = 'retry' AND x.attempts < p_max_attempts
					THEN 'queued'
				ELSE 'failed' END,
			sent_at = CASE WHEN r.outcome <> 'sent' THEN x.sent_at
				WHEN x.state = 'sending' THEN now()
				ELSE coalesce(x.sent_at, now()) END,
			gateway_ref = CASE WHEN r.outcome <> 'sent' THEN x.gateway_ref
				WHEN x.state = 'sending' THEN r.ref
				ELSE coalesce(x.gateway_ref, r.ref) END,
			segments = CASE WHEN r.outcome = 'sent' THEN r.segments
				ELSE x.segments END,
			encoding = CASE WHEN r.outcome = 'sent' THEN r.encoding
				ELSE x.encoding END,
			lease_until = NULL,
			last_error = CASE WHEN x.state <> 'sending' THEN x.last_error
				WHEN r.outcome = 'sent' THEN NULL ELSE r.error END,
			next_attempt_at = CASE WHEN x.state = 'sending'
					AND r.outcome = 'retry' AND x.attempts < p_max_attempts
				THEN now() + make_interval(secs => least(3600,
					p_retry_base * 2 ^ (x.attempts - 1)) * (0.5 + random()))
				ELSE x.next_attempt_at END
		  FROM r JOIN l ON l.id = r.id AND l.created_at = r.created_at
		 WHERE x.id = r.id AND x.created_at = r.created_at
		   AND (x.state = 'sending' OR (r.outcome = 'sent'
			AND x.state IN ('delivered', 'undelivered')))
		RETURNING x.id, x.state)
	SELECT r.id, coalesce(u.state, (SELECT o.state FROM pakn.outbox o
			WHERE o.id = r.id AND o.created_at = r.created_at), 'missing')
	  FROM r LEFT JOIN u ON u.id = r.id
	 ORDER BY r.i;
END;
$$;

-- A delivery report: by our outbox id (Kannel's dlr-url carries it) or by
-- the gateway's reference. p_status: delivered, undelivered, or anything
-- else (accepted, queued, buffered: no change). Returns rows updated.
-- Reports come within days of the send: the last 31 days' partitions are
-- searched first, older months only for a late report.
CREATE OR REPLACE FUNCTION pakn.outbox_dlr(p_gateway text, p_id bigint,
	p_ref text, p_status text, p_detail text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_recent timestamptz := now() - interval '31 days';
	n integer;
BEGIN
	IF p_status NOT IN ('delivered', 'undelivered') THEN
		RETURN 0;
	END IF;
	n := pakn.outbox_dlr_between(p_gateway, p_id, p_ref, p_status,
		p_detail, v_recent, 'infinity');
	IF n = 0 THEN
		n := pakn.outbox_dlr_between(p_gateway, p_id, p_ref, p_status,
			p_detail, '-infinity', v_recent);
	END IF;
	RETURN n;
END;
$$;

-- Grant up to p_want sends through p_gateway in the current second,
-- without the second's grants passing p_rate; returns how many, and the
-- milliseconds left in the second (the grant lapses then: paknd drops
-- what it could not use, so an unused grant never adds to a later
-- second). The row lock orders instances taking from the same second.
CREATE OR REPLACE FUNCTION pakn.rate_take(p_gateway text, p_rate integer,
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

-- A delivery report applied to the messages queued in [p_from, p_to):
-- rows updated.
CREATE OR REPLACE FUNCTION pakn.outbox_dlr_between(p_gateway text,
	p_id bigint, p_ref text, p_status text, p_detail text,
	p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE sql AS $$
	WITH u AS (
		UPDATE pakn.outbox o SET state = p_status,
			delivered_at = CASE WHEN p_status = 'delivered' THEN now() END,
			last_error = CASE WHEN p_status = 'undelivered' THEN p_detail
				ELSE o.last_error END
		 WHERE o.gateway = p_gateway
		   AND (o.id = p_id OR (p_id IS NULL AND o.gateway_ref = p_ref))
		   AND o.state IN ('sending', 'sent', 'delivered', 'undelivered')
		   AND o.created_at >= p_from AND o.created_at < p_to
		RETURNING 1)
	SELECT count(*)::integer FROM u
$$;
