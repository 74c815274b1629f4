-- 023: the ledger (pakn.complaint_event) and the outbox (pakn.outbox)
-- partitioned by month, local time (Asia/Ho_Chi_Minh, UTC+7, no DST):
-- a month's rows are one table, so an old month of the outbox can be
-- dropped whole (paknctl partitions --drop-before) and indexes stay the
-- size of a month. An existing installation is converted in place: each
-- table is rebuilt as a partitioned one with the same columns, ids,
-- defaults, checks, foreign keys, indexes and triggers, and its rows
-- moved into their months. Ids are unique without a constraint saying
-- so (GENERATED ALWAYS identity: no statement may give its own id); the
-- primary keys are (id, at) and (id, created_at), as PostgreSQL wants
-- the partition key in every unique index.
--
-- Two halves: schema statements (tables, the conversion), then
-- functions (CREATE OR REPLACE, plus the two functions the conversion
-- dropped because their argument is the ledger's row type).

------------------------------------------------------------------------
-- Schema
------------------------------------------------------------------------

-- The tables partitioned by month and how: partitions_ensure keeps their
-- months, partitions_drop_before drops whole months of a droppable one.
CREATE TABLE pakn.partitioned (
	name       text PRIMARY KEY,   -- a table of schema pakn
	key_column text NOT NULL,      -- its timestamptz partition key
	droppable  boolean NOT NULL,   -- whole old months may be dropped
	busy       text,               -- rows that forbid dropping their month
	busy_note  text,               -- what they are, for the refusal
	note       text NOT NULL
);
INSERT INTO pakn.partitioned (name, key_column, droppable, busy, busy_note,
	note)
VALUES
	('complaint_event', 'at', false, NULL, NULL,
	 'the ledger: the accountability record, never dropped'),
	('outbox', 'created_at', true, 'state IN (''queued'', ''sending'')',
	 'SMS still queued or being sent',
	 'every SMS sent: numbers and texts, droppable after the retention');

-- Every partition created, filled from DEFAULT or dropped: who, when,
-- what, how many rows. Append-only.
CREATE TABLE pakn.partition_event (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT now(),
	actor       text NOT NULL,
	action      text NOT NULL CHECK (action IN ('created', 'dropped')),
	table_name  text NOT NULL,
	partition   text NOT NULL,
	range_from  timestamptz NOT NULL,
	range_to    timestamptz NOT NULL,
	rows        bigint NOT NULL,   -- moved from DEFAULT, or dropped
	detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE TRIGGER partition_event_append_only BEFORE UPDATE OR DELETE
	ON pakn.partition_event FOR EACH ROW EXECUTE FUNCTION pakn.append_only();
CREATE TRIGGER partition_event_no_truncate BEFORE TRUNCATE
	ON pakn.partition_event FOR EACH STATEMENT
	EXECUTE FUNCTION pakn.append_only();
COMMENT ON TABLE pakn.partition_event IS
	'partitions created and dropped (pakn.partitions_ensure, paknctl partitions --drop-before); append-only';

-- The old tables step aside (their rows are copied below, then they go).
LOCK TABLE pakn.complaint_event, pakn.outbox IN ACCESS EXCLUSIVE MODE;
ALTER TABLE pakn.complaint_event RENAME TO complaint_event_unpartitioned;
ALTER SEQUENCE pakn.complaint_event_id_seq
	RENAME TO complaint_event_unpartitioned_id_seq;
ALTER TABLE pakn.outbox RENAME TO outbox_unpartitioned;
ALTER SEQUENCE pakn.outbox_id_seq RENAME TO outbox_unpartitioned_id_seq;

-- The ledger (004), partitioned by the time of the event.
CREATE TABLE pakn.complaint_event (
	id           bigint GENERATED ALWAYS AS IDENTITY,
	complaint_id bigint NOT NULL,
	at           timestamptz NOT NULL DEFAULT now(),
	actor        text NOT NULL CONSTRAINT complaint_event_actor_check
		CHECK (actor IN ('citizen', 'official', 'system')),
	actor_id     text,
	event        text NOT NULL,
	reason       text,
	detail       jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (at);
COMMENT ON TABLE pakn.complaint_event IS
	'The ledger: every change of a complaint, append-only; partitioned by local month of at (pakn.partitions_ensure), never dropped';

-- The outbox (004, 018), partitioned by the time the SMS was queued.
CREATE TABLE pakn.outbox (
	id              bigint GENERATED ALWAYS AS IDENTITY,
	gateway         text NOT NULL,
	msisdn          text NOT NULL,
	body            text NOT NULL CONSTRAINT outbox_body_check
				CHECK (body <> ''),
	kind            text NOT NULL,
	complaint_id    bigint,
	inbound_id      bigint,
	state           text NOT NULL DEFAULT 'queued'
				CONSTRAINT outbox_state_check CHECK (state IN ('queued',
				'sending', 'sent', 'delivered', 'undelivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	lease_until     timestamptz,
	gateway_ref     text,
	last_error      text,
	segments        integer,
	encoding        text CONSTRAINT outbox_encoding_check
				CHECK (encoding IN ('gsm7', 'ucs2')),
	created_at      timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	delivered_at    timestamptz
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE pakn.outbox IS
	'Every SMS pakn sends; partitioned by local month of created_at (pakn.partitions_ensure); old months dropped by paknctl partitions --drop-before';

-- A DEFAULT partition each (rows of a month without its partition land
-- there; partitions_ensure moves them out), one per month that has rows,
-- and this month and the next three. The ledger's TRUNCATE guard is a
-- statement trigger, which PostgreSQL does not clone: each partition gets
-- its own.
DO $$
DECLARE
	t record;
	m date;
	v_part text;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('complaint_event', 'at'),
			('outbox', 'created_at')) AS x (name, key) LOOP
		EXECUTE format('CREATE TABLE pakn.%I PARTITION OF pakn.%I DEFAULT',
			t.name || '_default', t.name);
		FOR m IN EXECUTE format('SELECT DISTINCT date_trunc(''month'', %I
				AT TIME ZONE ''Asia/Ho_Chi_Minh'')::date
			  FROM pakn.%I UNION SELECT generate_series(date_trunc(
				''month'', now() AT TIME ZONE ''Asia/Ho_Chi_Minh''),
				date_trunc(''month'', now() AT TIME ZONE
				''Asia/Ho_Chi_Minh'') + interval ''3 months'',
				interval ''1 month'')::date ORDER BY 1',
			t.key, t.name || '_unpartitioned') LOOP
			EXECUTE format('CREATE TABLE pakn.%I PARTITION OF pakn.%I
				FOR VALUES FROM (%L) TO (%L)',
				t.name || to_char(m, '_YYYY_MM'), t.name,
				m::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh',
				(m + interval '1 month') AT TIME ZONE
					'Asia/Ho_Chi_Minh');
		END LOOP;
	END LOOP;
	FOR v_part IN SELECT relid::regclass::text
	  FROM pg_partition_tree('pakn.complaint_event') WHERE isleaf LOOP
		EXECUTE format('CREATE TRIGGER complaint_event_no_truncate
			BEFORE TRUNCATE ON %s FOR EACH STATEMENT
			EXECUTE FUNCTION pakn.ledger_append_only()', v_part);
	END LOOP;
END;
$$;

-- The rows, with their ids; no trigger is there yet to fire again (the
-- statistics counted these events when they were appended).
INSERT INTO pakn.complaint_event
	(id, complaint_id, at, actor, actor_id, event, reason, detail)
	OVERRIDING SYSTEM VALUE
SELECT id, complaint_id, at, actor, actor_id, event, reason, detail
  FROM pakn.complaint_event_unpartitioned;
INSERT INTO pakn.outbox
	(id, gateway, msisdn, body, kind, complaint_id, inbound_id, state,
	 attempts, next_attempt_at, lease_until, gateway_ref, last_error,
	 segments, encoding, created_at, sent_at, delivered_at)
	OVERRIDING SYSTEM VALUE
SELECT id, gateway, msisdn, body, kind, complaint_id, inbound_id, state,
	attempts, next_attempt_at, lease_until, gateway_ref, last_error,
	segments, encoding, created_at, sent_at, delivered_at
  FROM pakn.outbox_unpartitioned;

-- Ids continue where the old sequences were.
SELECT setval(pg_get_serial_sequence('pakn.complaint_event', 'id'),
	greatest(s.last_value, coalesce((SELECT max(id)
		FROM pakn.complaint_event), 1)), s.is_called OR EXISTS (SELECT
		1 FROM pakn.complaint_event))
  FROM pakn.complaint_event_unpartitioned_id_seq s;
SELECT setval(pg_get_serial_sequence('pakn.outbox', 'id'),
	greatest(s.last_value, coalesce((SELECT max(id) FROM pakn.outbox), 1)),
	s.is_called OR EXISTS (SELECT 1 FROM pakn.outbox))
  FROM pakn.outbox_unpartitioned_id_seq s;

-- Two functions take the old ledger's row type: they go with it and are
-- created again, unchanged, for the new one (below).
DROP FUNCTION pakn.stat_of_event(pakn.complaint_event_unpartitioned);
DROP FUNCTION pakn.event_short(pakn.complaint_event_unpartitioned);
DROP TABLE pakn.complaint_event_unpartitioned;
DROP TABLE pakn.outbox_unpartitioned;

-- Keys, foreign keys, indexes (on every partition, present and future).
ALTER TABLE pakn.complaint_event ADD PRIMARY KEY (id, at),
	ADD FOREIGN KEY (complaint_id) REFERENCES pakn.complaint (id);
CREATE INDEX complaint_event_complaint_idx
	ON pakn.complaint_event (complaint_id, id);
ALTER TABLE pakn.outbox ADD PRIMARY KEY (id, created_at),
	ADD FOREIGN KEY (complaint_id) REFERENCES pakn.complaint (id),
	ADD FOREIGN KEY (inbound_id) REFERENCES pakn.inbound_message (id);
CREATE INDEX outbox_due_idx ON pakn.outbox (next_attempt_at, id)
	WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_ref_idx ON pakn.outbox (gateway, gateway_ref);
CREATE INDEX outbox_complaint_idx ON pakn.outbox (complaint_id);
CREATE INDEX outbox_msisdn_idx ON pakn.outbox (msisdn, created_at);

-- Triggers (row triggers are cloned onto every partition).
CREATE TRIGGER complaint_event_append_only
	BEFORE UPDATE OR DELETE ON pakn.complaint_event
	FOR EACH ROW EXECUTE FUNCTION pakn.ledger_append_only();
CREATE TRIGGER complaint_event_no_truncate
	BEFORE TRUNCATE ON pakn.complaint_event
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ledger_append_only();
CREATE TRIGGER complaint_event_stats AFTER INSERT ON pakn.complaint_event
	FOR EACH ROW WHEN (NEW.event IN ('routed', 'answered', 'apologised',
		'transferred', 'reopened'))
	EXECUTE FUNCTION pakn.stat_event_trigger();
CREATE TRIGGER outbox_refuse_flagged BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse_flagged();
CREATE TRIGGER outbox_refuse_banned BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse_banned();
CREATE TRIGGER outbox_skip_nophone BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_skip_nophone();

------------------------------------------------------------------------
-- Functions
------------------------------------------------------------------------

-- The ledger's row type is the new table's: these two take it (009, 018;
-- bodies unchanged).
-- The delta a ledger event adds to the statistics (none for most events).
-- Received: the unit it was routed to, on the routing day. Answered,
-- apologised, reopened: the unit responsible at the event. Transferred:
-- the unit it left. Response time: working days from the routing (or the
-- last reopening) to the answer.
CREATE OR REPLACE FUNCTION pakn.stat_of_event(e pakn.complaint_event)
RETURNS SETOF pakn.stat_delta
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r pakn.stat_delta;
	v_start timestamptz;
BEGIN
	IF e.event NOT IN ('routed', 'answered', 'apologised', 'transferred',
			'reopened') THEN
		RETURN;
	END IF;
	SELECT c.dimension, c.category_code INTO r.dimension, r.category
	  FROM pakn.complaint c WHERE c.id = e.complaint_id;
	r.unit_code := CASE e.event WHEN 'routed' THEN e.detail->>'unit'
		WHEN 'transferred' THEN e.detail->>'from'
		ELSE pakn.stat_unit_before(e.complaint_id, e.id) END;
	IF r.unit_code IS NULL OR r.dimension IS NULL THEN
		RETURN;
	END IF;
	r.day := pakn.local_date(e.at);
	r.received := (e.event = 'routed')::integer;
	r.answered := (e.event = 'answered')::integer;
	r.on_time := (e.event = 'answered'
		AND coalesce((e.detail->>'on_time')::boolean, false))::integer;
	r.apologies := (e.event = 'apologised')::integer;
	r.transfers := (e.event = 'transferred')::integer;
	r.reopens := (e.event = 'reopened')::integer;
	r.ratings := 0; r.rating_sum := 0; r.satisfied := 0;
	IF e.event = 'answered' THEN
		SELECT s.at INTO v_start FROM pakn.complaint_event s
		 WHERE s.complaint_id = e.complaint_id AND s.id < e.id
		   AND s.event IN ('routed', 'reopened')
		 ORDER BY s.id DESC LIMIT 1;
		r.wdays := pakn.working_days_between(
			pakn.local_date(coalesce(v_start, e.at)), r.day);
	END IF;
	RETURN NEXT r;
END;
$$;

CREATE OR REPLACE FUNCTION pakn.event_short(e pakn.complaint_event) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(e.at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM') || ' '
	    || CASE e.event
		WHEN 'received' THEN 'nhận'
		WHEN 'routed' THEN 'giao ' || coalesce(e.detail->>'unit', '')
		WHEN 'transferred' THEN 'chuyển ' || coalesce(e.detail->>'to', '')
		WHEN 'returned' THEN 'trả về ' || coalesce(e.detail->>'to', '')
		WHEN 'extended' THEN 'gia hạn'
		WHEN 'reminded' THEN 'nhắc hạn'
		WHEN 'escalated' THEN 'quá hạn'
		WHEN 'answered' THEN 'trả lời'
		WHEN 'reopened' THEN 'mở lại'
		WHEN 'rated' THEN 'đánh giá ' || coalesce(e.detail->>'score', '')
		WHEN 'rejected' THEN 'từ chối'
		WHEN 'withdrawn' THEN 'rút'
		WHEN 'closed' THEN 'đóng'
		ELSE e.event END
$$;


-- Outbox (004): a message is found by (id, created_at), so a statement
-- reads one month's partition, not every month's index.

-- Claim due messages for sending (several paknd may share the outbox). A
-- message whose lease ran out (its sender died) is claimed again. Each
-- comes with its created_at, which outbox_result takes back.
DROP FUNCTION IF EXISTS pakn.outbox_claim(integer, integer);
CREATE FUNCTION pakn.outbox_claim(p_limit integer, p_lease_seconds integer)
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

-- Record a send attempt: 'sent', 'retry' (backoff with jitter, 'failed'
-- after p_max_attempts) or 'failed' (permanent). p_created_at is the
-- message's, as outbox_claim gave it (NULL: looked up by id, in every
-- month).
DROP FUNCTION IF EXISTS pakn.outbox_result(bigint, text, text, text, integer,
	text, integer, double precision);
CREATE OR REPLACE FUNCTION pakn.outbox_result(p_id bigint, p_outcome text,
	p_gateway_ref text, p_error text, p_segments integer, p_encoding text,
	p_max_attempts integer, p_retry_base double precision,
	p_created_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
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

-- Partitions -------------------------------------------------------------

-- The first instant of a local month (Asia/Ho_Chi_Minh).
CREATE OR REPLACE FUNCTION pakn.month_start(p_month date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT date_trunc('month', p_month)::timestamp
		AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

-- Every partition of the tables partitioned by month: its range (NULL
-- for DEFAULT), rows (counted) and bytes on disk (with indexes and
-- TOAST).
CREATE OR REPLACE FUNCTION pakn.partition_list()
RETURNS TABLE (table_name text, partition text, range_from timestamptz,
	range_to timestamptz, rows bigint, bytes bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT t.name, c.oid, c.relname,
			pg_get_expr(c.relpartbound, c.oid) AS bound
		   FROM pakn.partitioned t
		   JOIN pg_inherits i
		     ON i.inhparent = to_regclass(format('pakn.%I', t.name))
		   JOIN pg_class c ON c.oid = i.inhrelid
		  ORDER BY t.name, c.relname LOOP
		table_name := r.name;
		partition := r.relname;
		range_from := substring(r.bound FROM 'FROM \(''([^'']+)''\)');
		range_to := substring(r.bound FROM 'TO \(''([^'']+)''\)');
		EXECUTE format('SELECT count(*) FROM pakn.%I', r.relname)
		   INTO rows;
		bytes := pg_total_relation_size(r.oid);
		RETURN NEXT;
	END LOOP;
END;
$$;

-- The months a table lacks a partition for: those of the rows waiting in
-- its DEFAULT partition, and this month to p_ahead months ahead. Read
-- from pg_class with the statement's snapshot (not the name cache), so
-- a caller that waited for another's lock sees what it created.
CREATE OR REPLACE FUNCTION pakn.partition_missing(p_table text,
	p_ahead integer)
RETURNS SETOF date
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t pakn.partitioned;
	v_now date := date_trunc('month', now() AT TIME ZONE
		'Asia/Ho_Chi_Minh')::date;
BEGIN
	SELECT * INTO STRICT t FROM pakn.partitioned WHERE name = p_table;
	RETURN QUERY EXECUTE format('SELECT m FROM (SELECT DISTINCT
			date_trunc(''month'', %I AT TIME ZONE ''Asia/Ho_Chi_Minh'')::date
		  FROM pakn.%I
		UNION SELECT generate_series($1::timestamp,
			$1 + make_interval(months => $2),
			interval ''1 month'')::date) AS x (m)
		WHERE NOT EXISTS (SELECT 1 FROM pg_class c
			WHERE c.relnamespace = ''pakn''::regnamespace
			  AND c.relname = %L || to_char(m, ''_YYYY_MM''))
		ORDER BY m', t.key_column, p_table || '_default', p_table)
		USING v_now, p_ahead;
END;
$$;

-- Create a table's partition of one month: rows of that month waiting in
-- DEFAULT are moved into it (moved, not deleted: the ledger's
-- append-only guard on DEFAULT steps aside for the move alone), then it
-- is attached (indexes, foreign keys and row triggers follow from the
-- parent; statement TRUNCATE triggers are copied). Ledgered in
-- pakn.partition_event. Returns the rows moved.
CREATE OR REPLACE FUNCTION pakn.partition_create(p_table text, p_month date,
	p_actor text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	t pakn.partitioned;
	v_part text := p_table || to_char(p_month, '_YYYY_MM');
	v_def text := p_table || '_default';
	v_from timestamptz := pakn.month_start(p_month);
	v_to timestamptz := pakn.month_start((p_month + interval '1 month')::date);
	v_rows bigint;
	g record;
BEGIN
	SELECT * INTO STRICT t FROM pakn.partitioned WHERE name = p_table;
	-- The locks ATTACH takes, in its order, before anything else: the
	-- parent's does not stop reads and writes, DEFAULT's waits for them.
	EXECUTE format('LOCK TABLE ONLY pakn.%I IN SHARE UPDATE EXCLUSIVE MODE',
		p_table);
	EXECUTE format('LOCK TABLE pakn.%I IN ACCESS EXCLUSIVE MODE', v_def);
	EXECUTE format('CREATE TABLE pakn.%I (LIKE pakn.%I INCLUDING DEFAULTS
		INCLUDING CONSTRAINTS)', v_part, p_table);
	EXECUTE format('SELECT count(*) FROM pakn.%I WHERE %I >= $1 AND %I < $2',
		v_def, t.key_column, t.key_column) INTO v_rows USING v_from, v_to;
	IF v_rows > 0 THEN
		EXECUTE format('ALTER TABLE pakn.%I DISABLE TRIGGER USER', v_def);
		EXECUTE format('WITH m AS (DELETE FROM pakn.%I WHERE %I >= $1
			AND %I < $2 RETURNING *) INSERT INTO pakn.%I SELECT * FROM m',
			v_def, t.key_column, t.key_column, v_part) USING v_from, v_to;
		EXECUTE format('ALTER TABLE pakn.%I ENABLE TRIGGER USER', v_def);
	END IF;
	EXECUTE format('ALTER TABLE pakn.%I ATTACH PARTITION pakn.%I
		FOR VALUES FROM (%L) TO (%L)', p_table, v_part, v_from, v_to);
	FOR g IN SELECT tg.tgname, tg.tgfoid::regproc AS fn FROM pg_trigger tg
		  WHERE tg.tgrelid = format('pakn.%I', p_table)::regclass
		    AND tg.tgtype & 1 = 0 AND tg.tgtype & 32 <> 0 LOOP
		EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON pakn.%I
			FOR EACH STATEMENT EXECUTE FUNCTION %s()', g.tgname, v_part,
			g.fn);
	END LOOP;
	INSERT INTO pakn.partition_event (actor, action, table_name, partition,
		range_from, range_to, rows)
	VALUES (p_actor, 'created', p_table, v_part, v_from, v_to, v_rows);
	RETURN v_rows;
END;
$$;

-- Create the partitions of this month and the next p_months_ahead for
-- every table partitioned by month, and of the months whose rows wait in
-- DEFAULT (moving them). Idempotent; one caller at a time (an advisory
-- lock; a caller with nothing to do takes no lock). Returns the
-- partitions created.
CREATE OR REPLACE FUNCTION pakn.partitions_ensure(p_months_ahead integer,
	p_actor text DEFAULT 'paknd')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_table text;
	m date;
	n integer := 0;
BEGIN
	IF p_months_ahead IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120 THEN
		RAISE EXCEPTION 'partitions: months ahead must be 0 to 120, not %',
			p_months_ahead USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pakn.partitioned t
			JOIN pg_class c ON c.oid = to_regclass(format('pakn.%I', t.name))
			 AND c.relkind = 'p',
			pakn.partition_missing(t.name, p_months_ahead)) THEN
		RETURN 0;
	END IF;
	PERFORM pg_advisory_xact_lock(7141750);
	FOR v_table IN SELECT t.name FROM pakn.partitioned t
		JOIN pg_class c ON c.oid = to_regclass(format('pakn.%I', t.name))
		 AND c.relkind = 'p' ORDER BY t.name LOOP
		FOR m IN SELECT * FROM pakn.partition_missing(v_table,
				p_months_ahead) LOOP
			PERFORM pakn.partition_create(v_table, m, p_actor);
			n := n + 1;
		END LOOP;
	END LOOP;
	RETURN n;
END;
$$;

-- Drop the whole months of a droppable table (the outbox) that end on or
-- before p_before (a local date), e.g. with the retention of sent SMS
-- (they carry numbers and texts). Refused for the ledger (the
-- accountability record), and for every month while one of its rows is
-- busy (an SMS still queued or being sent): nothing is dropped then.
-- Ledgered in pakn.partition_event; p_dry_run only counts. Returns what
-- was (or would be) dropped as jsonb.
CREATE OR REPLACE FUNCTION pakn.partitions_drop_before(p_table text,
	p_before date, p_actor text, p_dry_run boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	t pakn.partitioned;
	p record;
	v_busy bigint;
	v_rows bigint;
	v_total bigint := 0;
	v_list jsonb := '[]';
BEGIN
	SELECT * INTO t FROM pakn.partitioned WHERE name = p_table;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'partitions: pakn.% is not partitioned by month',
			p_table USING ERRCODE = 'invalid_parameter_value';
	ELSIF NOT t.droppable THEN
		RAISE EXCEPTION 'partitions: months of pakn.% are never dropped (%)',
			p_table, t.note USING ERRCODE = 'insufficient_privilege';
	ELSIF p_before > pakn.local_date(now()) THEN
		RAISE EXCEPTION 'partitions: % is in the future', p_before
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_advisory_xact_lock(7141750);
	-- Dropping a partition locks its parent: take that lock first, so a
	-- claim that holds the parent and waits for a partition cannot
	-- deadlock with us (it waits, a few milliseconds).
	IF NOT p_dry_run THEN
		EXECUTE format('LOCK TABLE pakn.%I IN ACCESS EXCLUSIVE MODE',
			p_table);
	END IF;
	FOR p IN SELECT * FROM pakn.partition_list() l
		  WHERE l.table_name = p_table
		    AND l.range_to <= (p_before::timestamp
			AT TIME ZONE 'Asia/Ho_Chi_Minh')
		  ORDER BY l.range_from LOOP
		EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %s)
			FROM pakn.%I', coalesce(t.busy, 'false'), p.partition)
		   INTO v_rows, v_busy;
		IF v_busy > 0 THEN
			RAISE EXCEPTION 'partitions: pakn.% holds % %; nothing dropped',
				p.partition, v_busy, coalesce(t.busy_note, t.busy)
				USING ERRCODE = 'object_in_use';
		END IF;
		v_total := v_total + v_rows;
		v_list := v_list || jsonb_build_object('partition', p.partition,
			'from', p.range_from, 'to', p.range_to, 'rows', v_rows);
		IF NOT p_dry_run THEN
			INSERT INTO pakn.partition_event (actor, action, table_name,
				partition, range_from, range_to, rows, detail)
			VALUES (p_actor, 'dropped', p_table, p.partition, p.range_from,
				p.range_to, v_rows, jsonb_build_object('before', p_before));
			EXECUTE format('DROP TABLE pakn.%I', p.partition);
		END IF;
	END LOOP;
	RETURN jsonb_build_object('table', p_table, 'before', p_before,
		'dry_run', p_dry_run, 'partitions', v_list, 'rows', v_total);
END;
$$;
