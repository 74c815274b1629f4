-- 019: operations. The gauges GET /metrics reads from the database (no
-- personal data: counts and ages per gateway), and each gateway's send
-- rate shared by every paknd on the database.

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
