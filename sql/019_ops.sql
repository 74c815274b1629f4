-- 019: operations. The gauges GET /metrics reads from the database (no
-- personal data: counts and ages per gateway), ...

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
