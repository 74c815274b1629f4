
-- Claim up to p_limit due messages for p_lease_seconds: first those
-- being sent whose lease ran out (their sender died: 035's
-- outbox_lease_idx), then the queued ones that are due, the replies to a
-- message just received first (inbound_id set; reply is true), then the
-- others, the oldest first within each (035's outbox_due_idx, which holds
-- no message in flight).
CREATE OR REPLACE FUNCTION pakn.outbox_claim(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, gateway text, msisdn text, body text,
	attempts integer, created_at timestamptz, reply boolean)
LANGUAGE plpgsql
-- A statement of an SQL function is planned at every call: 0.4-0.6 ms
-- of each claim (five partitions, their indexes). The plan is kept.
SET plan_cache_mode = force_generic_plan
-- The planner takes LIMIT p_limit for a tenth of the rows waiting: on a
-- month's outbox of 1.5 million rows it joined them by reading the whole
-- month (a sequential scan, 0.5-1.1 s a claim, which made the outbox
-- crawl as the month filled), and its cost then called for JIT (65 ms
-- more). The rows claimed are few, found by the due index and joined by
-- the key's: 9-13 ms there.
SET enable_seqscan = off
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
	v_ids bigint[];
	v_more bigint[];
	v_from timestamptz;
	v_to timestamptz;
	v_more_from timestamptz;
	v_more_to timestamptz;
BEGIN
	SELECT coalesce(array_agg(q.id), '{}'), min(q.created_at),
		max(q.created_at) INTO v_ids, v_from, v_to
	  FROM (SELECT q.id, q.created_at FROM pakn.outbox q
		 WHERE q.state = 'sending' AND q.lease_until < now()
		 ORDER BY q.lease_until
		 LIMIT p_limit
		   FOR UPDATE SKIP LOCKED) q;
	IF cardinality(v_ids) < p_limit THEN
		SELECT coalesce(array_agg(q.id), '{}'), min(q.created_at),
			max(q.created_at) INTO v_more, v_more_from, v_more_to
		  FROM (SELECT q.id, q.created_at FROM pakn.outbox q
			 WHERE q.state = 'queued' AND q.next_attempt_at <= now()
			 ORDER BY (q.inbound_id IS NULL), q.next_attempt_at, q.id
			 LIMIT p_limit - cardinality(v_ids)
			   FOR UPDATE SKIP LOCKED) q;
		v_ids := v_ids || v_more;
		v_from := least(v_from, v_more_from);
		v_to := greatest(v_to, v_more_to);
	END IF;
	IF cardinality(v_ids) = 0 THEN
		RETURN;
	END IF;
	-- Their months only (as pakn.outbox_results: v_from, v_to), by id
	-- (the sequence's: one row each). Joined with the (id, created_at)
	-- pairs as well, the kept plan compared every row with every pair (a
	-- nested loop: half of a claim of 256, 5.5 of 11.6 ms).
	RETURN QUERY
	WITH u AS (
		UPDATE pakn.outbox o
		   SET state = 'sending', attempts = o.attempts + 1,
		       lease_until = now() + make_interval(secs => p_lease_seconds)
		 WHERE o.id = ANY (v_ids)
		   AND o.created_at BETWEEN v_from AND v_to
		RETURNING o.id, o.gateway, o.msisdn, o.body, o.attempts, o.created_at,
			o.inbound_id IS NOT NULL)
	SELECT * FROM u;
END;
$$;


-- Record the outcomes of sends (paknd's outbox, a batch at a time, as
-- sends finish): p_results, a JSON array of objects with id and
-- created_at (as claimed: they name the month's partition), outcome
-- (sent, retry or failed), ref (the gateway's reference), error,
-- segments and encoding (gsm7, ucs2). A message still 'sending' becomes
-- 'sent', 'queued' again (a retry, while attempts are under
-- p_max_attempts, after a backoff of p_retry_base seconds doubled each
-- attempt, with jitter) or 'failed'. A delivery report may commit before
-- our own 'sent' (Kannel's fake SMSC reports at once): its state is kept
-- and what we know is recorded. Any other message (its lease ran out and
-- it was claimed again, or it is gone) is left as it is. Returns one row
-- for each element, in order (n from 1): the state the message is in.
-- One statement for the batch: recorded one by one, the outcomes cost
-- the outbox a third more of PostgreSQL's time.
CREATE OR REPLACE FUNCTION pakn.outbox_results(p_results jsonb,
	p_max_attempts integer, p_retry_base double precision)
RETURNS TABLE (n integer, state text)
LANGUAGE plpgsql
-- Generic plans, kept (a statement of an SQL function is planned at every
-- call). The rows are found by their ids in the key's index, whatever
-- the outbox's size when the plan was made (one made while it was small,
-- kept, read all of it).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
	v_ids bigint[];
	v_from timestamptz;
	v_to timestamptz;
BEGIN
	v_ids := ARRAY(SELECT (e->>'id')::bigint
		FROM jsonb_array_elements(p_results) e);
	-- The months the batch's messages are of: the other partitions are
	-- left out when the statement starts (by id alone, the key's index
	-- of each month was searched for every id, 10 us a message).
	SELECT min(a.created_at), max(a.created_at) INTO v_from, v_to
	  FROM jsonb_to_recordset(p_results) AS a(created_at timestamptz);
	RETURN QUERY
	WITH r AS MATERIALIZED (
		SELECT DISTINCT ON (a.id) a.*
		  FROM ROWS FROM (jsonb_to_recordset(p_results)
			AS (id bigint, created_at timestamptz, outcome text,
			ref text, error text, segments integer, encoding text))
			WITH ORDINALITY AS a(id, created_at, outcome, ref, error,
			segments, encoding, n)
		 ORDER BY a.id, a.n),
	u AS (
		UPDATE pakn.outbox x
		   SET state = CASE
			WHEN x.state IN ('delivered', 'undelivered') THEN x.state
			WHEN r.outcome = 'sent' THEN 'sent'
			WHEN r.outcome = 'retry' AND x.attempts < p_max_attempts
				THEN 'queued'
			ELSE 'failed' END,
		       sent_at = CASE
			WHEN x.state IN ('delivered', 'undelivered')
				THEN coalesce(x.sent_at, now())
			WHEN r.outcome = 'sent' THEN now()
			ELSE x.sent_at END,
		       gateway_ref = CASE
			WHEN x.state IN ('delivered', 'undelivered')
				THEN coalesce(x.gateway_ref, r.ref)
			WHEN r.outcome = 'sent' THEN r.ref
			ELSE x.gateway_ref END,
		       segments = CASE WHEN r.outcome = 'sent' THEN r.segments
			ELSE x.segments END,
		       encoding = CASE WHEN r.outcome = 'sent' THEN r.encoding
			ELSE x.encoding END,
		       lease_until = NULL,
		       last_error = CASE
			WHEN x.state IN ('delivered', 'undelivered') THEN x.last_error
			WHEN r.outcome = 'sent' THEN NULL
			ELSE r.error END,
		       next_attempt_at = CASE
			WHEN x.state = 'sending' AND r.outcome = 'retry'
				AND x.attempts < p_max_attempts
			THEN now() + make_interval(secs => least(3600,
				p_retry_base * 2 ^ (x.attempts - 1)) * (0.5 + random()))
			ELSE x.next_attempt_at END
		  FROM r
		 WHERE x.id = ANY (v_ids)
		   AND x.created_at BETWEEN v_from AND v_to
		   AND x.id = r.id AND x.created_at = r.created_at
		   AND (x.state = 'sending' OR (r.outcome = 'sent'
			AND x.state IN ('delivered', 'undelivered')))
		RETURNING x.id, x.state),
	-- The new states by id (joined with the batch, the update's
	-- unknown size made a nested loop of it).
	s AS (
		SELECT jsonb_object_agg(u.id::text, u.state) AS m FROM u)
	SELECT a.n::integer, coalesce(s.m->>(a.id::text),
		(SELECT o.state FROM pakn.outbox o
		  WHERE o.id = a.id AND o.created_at = a.created_at), 'missing')
	  FROM ROWS FROM (jsonb_to_recordset(p_results)
		AS (id bigint, created_at timestamptz)) WITH ORDINALITY
		AS a(id, created_at, n)
	 CROSS JOIN s
	 ORDER BY a.n;
END;
$$;

-- One outcome (paknd before pakn.outbox_results; the same rules).
-- p_created_at NULL: the message is looked up by its id.
CREATE OR REPLACE FUNCTION pakn.outbox_result(p_id bigint, p_outcome text,
	p_gateway_ref text, p_error text, p_segments integer, p_encoding text,
	p_max_attempts integer, p_retry_base double precision,
	p_created_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE sql AS $$
	SELECT r.state FROM pakn.outbox_results(jsonb_build_array(
		jsonb_build_object('id', p_id, 'created_at', coalesce(p_created_at,
			(SELECT x.created_at FROM pakn.outbox x WHERE x.id = p_id)),
		'outcome', p_outcome, 'ref', p_gateway_ref, 'error', p_error,
		'segments', p_segments, 'encoding', p_encoding)),
		p_max_attempts, p_retry_base) r
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

-- Why an SMS to each of p_numbers is refused (as 027, 032): banned;
-- else our own number or a flagged sender (044); why NULL if it is
-- not. One row a number, in no order. A plain SQL query, so that a
-- caller's query that names it in FROM with a column as its argument
-- gets it inlined: pakn.intake_process_batch asks it once for its
-- batch's numbers (4 us a number, where a call of pakn.outbox_refusal a
-- number was 15 us).
CREATE OR REPLACE FUNCTION pakn.outbox_refusals(p_numbers text[])
RETURNS TABLE (msisdn text, why text)
LANGUAGE sql STABLE AS $$
	SELECT n.msisdn, CASE WHEN EXISTS (SELECT 1 FROM pakn.ban b
			WHERE b.msisdn = n.msisdn)
		THEN 'refused: the number is banned'
		ELSE 'refused: the number is flagged (' || coalesce(
			(SELECT 'own_number' FROM pakn.own_number o
			  WHERE o.number = n.msisdn),
			(SELECT f.sender_flag FROM pakn.flagged_sender f
			  WHERE f.msisdn = n.msisdn)) || ')' END
	  FROM unnest(p_numbers) n(msisdn)
$$;

-- The flagged senders (044) of p_numbers (NULL: all) that no flagged
-- message of pakn.inbound_message names any more (a purge changed their
-- number, their month was dropped) go: an SMS to them is refused while
-- a flagged message of theirs is kept, as when the refusal read the
-- messages. How many went. The rows locked first, then tested again by
-- a statement of its own (a snapshot taken after the locks): a message
-- flagged meanwhile holds its number's row until it commits
-- (pakn.flagged_sender_keep, 046), and is seen.
CREATE OR REPLACE FUNCTION pakn.flagged_sender_prune(p_numbers text[])
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	PERFORM 1 FROM pakn.flagged_sender f
	 WHERE (p_numbers IS NULL OR f.msisdn = ANY (p_numbers))
	   AND NOT EXISTS (SELECT 1 FROM pakn.inbound_message m
		WHERE m.msisdn = f.msisdn AND m.sender_flag IS NOT NULL)
	 ORDER BY f.msisdn FOR UPDATE OF f;
	DELETE FROM pakn.flagged_sender f
	 WHERE (p_numbers IS NULL OR f.msisdn = ANY (p_numbers))
	   AND NOT EXISTS (SELECT 1 FROM pakn.inbound_message m
		WHERE m.msisdn = f.msisdn AND m.sender_flag IS NOT NULL);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- Why an SMS to p_msisdn is refused, or NULL (the outbox's trigger,
-- 032): pakn.outbox_refusals for one number.
CREATE OR REPLACE FUNCTION pakn.outbox_refusal(p_msisdn text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT r.why FROM pakn.outbox_refusals(ARRAY[p_msisdn]) r);
END;
$$;
