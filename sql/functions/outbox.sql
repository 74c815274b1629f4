
-- Claim up to p_limit due messages (queued and due, or sending with a
-- lapsed lease) for p_lease_seconds: the replies to a message just
-- received first (inbound_id set; reply is true), then the others, the
-- oldest first within each (028's outbox_due_idx).
CREATE OR REPLACE FUNCTION pakn.outbox_claim(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, gateway text, msisdn text, body text,
	attempts integer, created_at timestamptz, reply boolean)
LANGUAGE sql AS $$
	UPDATE pakn.outbox o
	   SET state = 'sending', attempts = o.attempts + 1,
	       lease_until = now() + make_interval(secs => p_lease_seconds)
	 WHERE (o.id, o.created_at) IN (
		SELECT q.id, q.created_at FROM pakn.outbox q
		 WHERE q.state IN ('queued', 'sending')
		   AND CASE q.state WHEN 'queued' THEN q.next_attempt_at <= now()
			ELSE q.lease_until < now() END
		 ORDER BY (q.inbound_id IS NULL), q.next_attempt_at, q.id
		 LIMIT p_limit
		   FOR UPDATE SKIP LOCKED)
	RETURNING o.id, o.gateway, o.msisdn, o.body, o.attempts, o.created_at,
		o.inbound_id IS NOT NULL
$$;


CREATE OR REPLACE FUNCTION pakn.outbox_result(p_id bigint, p_outcome text,
	p_gateway_ref text, p_error text, p_segments integer, p_encoding text,
	p_max_attempts integer, p_retry_base double precision,
	p_created_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
-- Generic plans, pruned to the month when they run: a custom plan (chosen
-- because pruning makes it look cheaper) is planned again at every call,
-- which costs as much as the update itself.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
	o pakn.outbox;
	v_at timestamptz := p_created_at;
BEGIN
	IF v_at IS NULL THEN
		SELECT x.created_at INTO v_at FROM pakn.outbox x WHERE x.id = p_id;
	END IF;
	SELECT * INTO o FROM pakn.outbox x
	 WHERE x.id = p_id AND x.created_at = v_at FOR UPDATE;
	-- A delivery report may commit before our own 'sent' (Kannel's fake
	-- SMSC reports at once): keep its state, record what we know.
	IF o.state IN ('delivered', 'undelivered') AND p_outcome = 'sent' THEN
		UPDATE pakn.outbox SET sent_at = coalesce(sent_at, now()),
			gateway_ref = coalesce(gateway_ref, p_gateway_ref),
			segments = p_segments, encoding = p_encoding,
			lease_until = NULL
		 WHERE id = p_id AND created_at = v_at;
		RETURN o.state;
	END IF;
	IF o.id IS NULL OR o.state <> 'sending' THEN
		RETURN coalesce(o.state, 'missing');
	END IF;
	IF p_outcome = 'sent' THEN
		UPDATE pakn.outbox SET state = 'sent', sent_at = now(),
			gateway_ref = p_gateway_ref, segments = p_segments,
			encoding = p_encoding, lease_until = NULL, last_error = NULL
		 WHERE id = p_id AND created_at = v_at;
		RETURN 'sent';
	ELSIF p_outcome = 'retry' AND o.attempts < p_max_attempts THEN
		UPDATE pakn.outbox SET state = 'queued', lease_until = NULL,
			last_error = p_error,
			next_attempt_at = now() + make_interval(secs =>
				least(3600, p_retry_base * 2 ^ (o.attempts - 1))
				* (0.5 + random()))
		 WHERE id = p_id AND created_at = v_at;
		RETURN 'queued';
	END IF;
	UPDATE pakn.outbox SET state = 'failed', lease_until = NULL,
		last_error = p_error
	 WHERE id = p_id AND created_at = v_at;
	RETURN 'failed';
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
