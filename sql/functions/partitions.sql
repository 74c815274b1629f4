-- functions/partitions.sql: monthly partitions of the ledger, the
-- outbox and the received SMS (pakn.partitioned): creating months ahead,
-- listing them, dropping old months of the outbox or of the SMS
-- (paknctl partitions).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

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
-- parent; statement TRUNCATE triggers are copied; the table's fill factor
-- in pakn.partitioned, 038, is the partition's). Ledgered in
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
		INCLUDING CONSTRAINTS)', v_part, p_table)
		|| CASE WHEN t.fillfactor IS NOT NULL
		   THEN format(' WITH (fillfactor = %s)', t.fillfactor) ELSE '' END;
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
	-- The flagged senders (044) whose flagged messages went with them.
	IF p_table = 'inbound_message' AND NOT p_dry_run AND v_list <> '[]' THEN
		PERFORM pakn.flagged_sender_prune(NULL);
	END IF;
	RETURN jsonb_build_object('table', p_table, 'before', p_before,
		'dry_run', p_dry_run, 'partitions', v_list, 'rows', v_total);
END;
$$;
