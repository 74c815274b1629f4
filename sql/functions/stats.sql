-- functions/stats.sql: statistics: deltas folded from the ledger,
-- rollups, reports, the public report (daemon/stats.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- A unit and every unit below it (by parent_code, whatever the closure
-- says).
CREATE OR REPLACE FUNCTION pakn.unit_descendants(p_code text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE down(code, depth) AS (
		SELECT p_code, 0
		UNION ALL
		SELECT u.code, d.depth + 1 FROM pakn.unit u
		  JOIN down d ON u.parent_code = d.code
		 WHERE d.depth < 64)
	SELECT DISTINCT code FROM down
$$;

-- Recompute the closure rows of a unit and everything below it, walking
-- the tree (pakn.unit_ancestors_walk, 040; pakn.unit_ancestors reads
-- the closure).
CREATE OR REPLACE FUNCTION pakn.unit_closure_refresh(p_code text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM pakn.unit_closure c
	 WHERE c.descendant IN (SELECT pakn.unit_descendants(p_code));
	INSERT INTO pakn.unit_closure (ancestor, descendant, depth)
	SELECT DISTINCT ON (a.code, d) a.code, d, a.distance
	  FROM pakn.unit_descendants(p_code) d, pakn.unit_ancestors_walk(d) a
	 ORDER BY a.code, d, a.distance;
END;
$$;

-- The first day of the month of d, or of the month n months later.
CREATE OR REPLACE FUNCTION pakn.stat_month_of(d date, n integer DEFAULT 0) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT make_date(m / 12, m % 12 + 1, 1)
	  FROM (SELECT (extract(year FROM d) * 12 + extract(month FROM d) - 1
		+ n)::integer AS m) x
$$;

-- The unit responsible for a complaint just before a ledger event.
CREATE OR REPLACE FUNCTION pakn.stat_unit_before(p_complaint bigint, p_event bigint)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(e.detail->>'to', e.detail->>'unit')
	  FROM pakn.complaint_event e
	 WHERE e.complaint_id = p_complaint AND e.id < p_event
	   AND e.event IN ('routed', 'transferred')
	 ORDER BY e.id DESC LIMIT 1
$$;

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

-- The delta a rating adds: its unit and dimension, the complaint's
-- category; satisfied means a score of 4 or 5.
CREATE OR REPLACE FUNCTION pakn.stat_of_rating(g pakn.rating)
RETURNS SETOF pakn.stat_delta
LANGUAGE sql STABLE AS $$
	SELECT NULL::bigint, g.unit_code, pakn.local_date(g.at), g.dimension,
	       coalesce((SELECT c.category_code FROM pakn.complaint c
			  WHERE c.id = g.complaint_id), ''),
	       0::smallint, 0::smallint, 0::smallint, 0::smallint, 0::smallint,
	       0::smallint, 1::smallint, g.score, (g.score >= 4)::integer::smallint,
	       NULL::integer
$$;

-- Append a delta row.
CREATE OR REPLACE FUNCTION pakn.stat_append(r pakn.stat_delta) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pakn.stat_delta (unit_code, day, dimension, category,
		received, answered, on_time, apologies, transfers, reopens,
		ratings, rating_sum, satisfied, wdays)
	VALUES (r.unit_code, r.day, r.dimension, r.category, r.received,
		r.answered, r.on_time, r.apologies, r.transfers, r.reopens,
		r.ratings, r.rating_sum, r.satisfied, r.wdays);
	RETURN 1;
END;
$$;

-- Move up to p_limit deltas (all when NULL) into the daily and the
-- monthly rollups, in one transaction, one folder at a time. Returns the
-- number moved, or -1 when another session is folding.
CREATE OR REPLACE FUNCTION pakn.stats_fold(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	IF NOT pg_try_advisory_xact_lock(7141748) THEN
		RETURN -1;
	END IF;
	WITH moved AS (
		DELETE FROM pakn.stat_delta WHERE id IN (
			SELECT id FROM pakn.stat_delta ORDER BY id LIMIT p_limit)
		RETURNING *),
	days AS (
		INSERT INTO pakn.stat_day AS s
		SELECT unit_code, day, dimension, category, sum(received),
		       sum(answered), sum(on_time), sum(apologies),
		       sum(transfers), sum(reopens), sum(ratings),
		       sum(rating_sum), sum(satisfied)
		  FROM moved GROUP BY unit_code, day, dimension, category
		ON CONFLICT (unit_code, day, dimension, category) DO UPDATE SET
			received = s.received + excluded.received,
			answered = s.answered + excluded.answered,
			on_time = s.on_time + excluded.on_time,
			apologies = s.apologies + excluded.apologies,
			transfers = s.transfers + excluded.transfers,
			reopens = s.reopens + excluded.reopens,
			ratings = s.ratings + excluded.ratings,
			rating_sum = s.rating_sum + excluded.rating_sum,
			satisfied = s.satisfied + excluded.satisfied),
	resp AS (
		INSERT INTO pakn.stat_response AS s
		SELECT unit_code, day, dimension, category, wdays, count(*)
		  FROM moved WHERE wdays IS NOT NULL
		 GROUP BY unit_code, day, dimension, category, wdays
		ON CONFLICT (unit_code, day, dimension, category, wdays)
		DO UPDATE SET answers = s.answers + excluded.answers),
	months AS (
		INSERT INTO pakn.stat_month AS s
		SELECT unit_code, pakn.stat_month_of(day), dimension,
		       category, sum(received), sum(answered), sum(on_time),
		       sum(apologies), sum(transfers), sum(reopens),
		       sum(ratings), sum(rating_sum), sum(satisfied)
		  FROM moved GROUP BY 1, 2, 3, 4
		ON CONFLICT (unit_code, month, dimension, category) DO UPDATE SET
			received = s.received + excluded.received,
			answered = s.answered + excluded.answered,
			on_time = s.on_time + excluded.on_time,
			apologies = s.apologies + excluded.apologies,
			transfers = s.transfers + excluded.transfers,
			reopens = s.reopens + excluded.reopens,
			ratings = s.ratings + excluded.ratings,
			rating_sum = s.rating_sum + excluded.rating_sum,
			satisfied = s.satisfied + excluded.satisfied),
	resp_months AS (
		INSERT INTO pakn.stat_response_month AS s
		SELECT unit_code, pakn.stat_month_of(day), dimension,
		       category, wdays, count(*)
		  FROM moved WHERE wdays IS NOT NULL
		 GROUP BY 1, 2, 3, 4, 5
		ON CONFLICT (unit_code, month, dimension, category, wdays)
		DO UPDATE SET answers = s.answers + excluded.answers)
	SELECT count(*) INTO n FROM moved;
	RETURN n;
END;
$$;

-- Recompute every rollup from the ledger and the ratings. New events
-- wait until it commits (SHARE locks), so nothing is missed or doubled.
CREATE OR REPLACE FUNCTION pakn.rebuild_stats(OUT events bigint, OUT ratings bigint,
	OUT day_rows bigint, OUT month_rows bigint)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(7141748);
	LOCK TABLE pakn.complaint_event, pakn.rating IN SHARE MODE;
	DELETE FROM pakn.stat_delta;
	DELETE FROM pakn.stat_day;
	DELETE FROM pakn.stat_response;
	DELETE FROM pakn.stat_month;
	DELETE FROM pakn.stat_response_month;
	SELECT coalesce(sum(pakn.stat_append(d)), 0) INTO events
	  FROM pakn.complaint_event e, pakn.stat_of_event(e) d;
	SELECT coalesce(sum(pakn.stat_append(d)), 0) INTO ratings
	  FROM pakn.rating g, pakn.stat_of_rating(g) d;
	PERFORM pakn.stats_fold(NULL);
	SELECT count(*) INTO day_rows FROM pakn.stat_day;
	SELECT count(*) INTO month_rows FROM pakn.stat_month;
END;
$$;

CREATE OR REPLACE FUNCTION pakn.stat_period(p text, p_cutoff integer)
RETURNS pakn.stat_range
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r pakn.stat_range;
	m text[];
	v_first date;
	v_months integer;
	v_step integer;
BEGIN
	r.label := upper(p);
	IF r.label ~ '^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$' THEN
		r.from_day := split_part(r.label, '..', 1)::date;
		r.to_day := split_part(r.label, '..', 2)::date;
		IF r.to_day < r.from_day THEN
			RAISE EXCEPTION 'period %: ends before it starts', p
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		r.prev_to := r.from_day - 1;
		r.prev_from := r.from_day - (r.to_day - r.from_day + 1);
		RETURN r;
	END IF;
	m := regexp_match(r.label, '^(\d{4})(?:-(\d{2})|-Q([1-4])|-H([12])|-(M9))?$');
	IF m IS NULL OR m[2]::integer NOT BETWEEN 1 AND 12 THEN
		RAISE EXCEPTION 'period "%": use 2026-10, 2026-Q3, 2026-H1, 2026-M9, 2026 or 2026-01-01..2026-03-31', p
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_first := make_date(m[1]::integer, CASE WHEN m[2] IS NOT NULL
		THEN m[2]::integer WHEN m[3] IS NOT NULL
		THEN 3 * m[3]::integer - 2 WHEN m[4] IS NOT NULL
		THEN 6 * m[4]::integer - 5 ELSE 1 END, 1);
	v_months := CASE WHEN m[2] IS NOT NULL THEN 1 WHEN m[3] IS NOT NULL
		THEN 3 WHEN m[4] IS NOT NULL THEN 6 WHEN m[5] IS NOT NULL
		THEN 9 ELSE 12 END;
	v_step := CASE WHEN v_months IN (9, 12) THEN 12 ELSE v_months END;
	SELECT b.f, b.t INTO r.from_day, r.to_day
	  FROM pakn.stat_bounds(v_first, v_months, p_cutoff) b;
	SELECT b.f, b.t INTO r.prev_from, r.prev_to
	  FROM pakn.stat_bounds((v_first - make_interval(months => v_step))::date,
		v_months, p_cutoff) b;
	RETURN r;
END;
$$;

-- First and last day of the months from v_first, with a cut-off day.
CREATE OR REPLACE FUNCTION pakn.stat_bounds(v_first date, v_months integer,
	p_cutoff integer, OUT f date, OUT t date)
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN coalesce(p_cutoff, 0) = 0 THEN v_first
		    ELSE (v_first - interval '1 month')::date + p_cutoff END,
	       CASE WHEN coalesce(p_cutoff, 0) = 0
		    THEN (v_first + make_interval(months => v_months))::date - 1
		    ELSE (v_first + make_interval(months => v_months - 1))::date
			+ p_cutoff - 1 END
$$;

-- The key a row of a subtree's statistics is grouped by: the child of the
-- root it lies under (the root itself for its own rows), the dimension,
-- the category, or '' (everything). Only immutable operations, so that
-- the planner inlines it instead of calling it for every row.
CREATE OR REPLACE FUNCTION pakn.stat_key(p_by text, p_root text, p_child text,
	p_dim smallint, p_cat text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_by WHEN 'unit' THEN coalesce(p_child, p_root)
		WHEN 'dimension' THEN p_dim::text WHEN 'category' THEN p_cat
		ELSE '' END
$$;

-- How a period is read: its whole calendar months from the monthly
-- rollups (monthly, f and t the first days of its first and last whole
-- month), and its other days, at most two stretches before and after the
-- whole months (or the whole period when it has none), from the daily
-- ones. 2026-06-11..2026-09-10 reads June 11-30 and September 1-10 by
-- day, July and August by month.
CREATE OR REPLACE FUNCTION pakn.stat_pieces(p_from date, p_to date)
RETURNS TABLE (monthly boolean, f date, t date)
LANGUAGE sql IMMUTABLE ROWS 3 AS $$
	WITH m AS (
		SELECT pakn.stat_month_of(p_from - 1, 1) AS first_month,
		       pakn.stat_month_of(p_to + 1) AS after_months)
	SELECT true, first_month, pakn.stat_month_of(after_months, -1)
	  FROM m WHERE first_month < after_months
	UNION ALL
	SELECT false, p_from, CASE WHEN first_month < after_months
		THEN first_month - 1 ELSE p_to END
	  FROM m WHERE p_from < first_month OR first_month >= after_months
	UNION ALL
	SELECT false, after_months, p_to
	  FROM m WHERE first_month < after_months AND after_months <= p_to
$$;

-- The counters of p_root's subtree between two days, optionally of one
-- dimension: whole months from pakn.stat_month, other days from
-- pakn.stat_day, and the unfolded deltas; several rows per unit,
-- dimension and category, to be summed. Each unit of the subtree (from
-- the closure) is read through the rollups' primary keys (unit_code,
-- month or day first), so the cost follows the subtree and the period,
-- not the size of the tables.
CREATE OR REPLACE FUNCTION pakn.stat_span(p_root text, p_from date, p_to date,
	p_dim smallint)
RETURNS TABLE (unit_code text, dimension smallint, category text,
	received integer, answered integer, on_time integer,
	apologies integer, transfers integer, reopens integer,
	ratings integer, rating_sum integer, satisfied integer)
LANGUAGE sql STABLE AS $$
	SELECT s.unit_code, s.dimension, s.category, s.received, s.answered,
	       s.on_time, s.apologies, s.transfers, s.reopens, s.ratings,
	       s.rating_sum, s.satisfied
	  FROM pakn.stat_pieces(p_from, p_to) p
	  JOIN pakn.unit_closure c ON c.ancestor = p_root
	  JOIN pakn.stat_month s ON s.unit_code = c.descendant
	   AND s.month BETWEEN p.f AND p.t
	 WHERE p.monthly AND (p_dim IS NULL OR s.dimension = p_dim)
	UNION ALL
	SELECT s.unit_code, s.dimension, s.category, s.received, s.answered,
	       s.on_time, s.apologies, s.transfers, s.reopens, s.ratings,
	       s.rating_sum, s.satisfied
	  FROM pakn.stat_pieces(p_from, p_to) p
	  JOIN pakn.unit_closure c ON c.ancestor = p_root
	  JOIN pakn.stat_day s ON s.unit_code = c.descendant
	   AND s.day BETWEEN p.f AND p.t
	 WHERE NOT p.monthly AND (p_dim IS NULL OR s.dimension = p_dim)
	UNION ALL
	SELECT s.unit_code, s.dimension, s.category, s.received, s.answered,
	       s.on_time, s.apologies, s.transfers, s.reopens, s.ratings,
	       s.rating_sum, s.satisfied
	  FROM pakn.unit_closure c
	  JOIN pakn.stat_delta s ON s.unit_code = c.descendant
	   AND s.day BETWEEN p_from AND p_to
	 WHERE c.ancestor = p_root AND (p_dim IS NULL OR s.dimension = p_dim)
$$;

-- The response-time histogram of p_root's subtree between two days, read
-- like pakn.stat_span: answers that took wdays working days.
CREATE OR REPLACE FUNCTION pakn.stat_span_response(p_root text, p_from date,
	p_to date, p_dim smallint)
RETURNS TABLE (unit_code text, dimension smallint, category text,
	wdays integer, answers integer)
LANGUAGE sql STABLE AS $$
	SELECT s.unit_code, s.dimension, s.category, s.wdays, s.answers
	  FROM pakn.stat_pieces(p_from, p_to) p
	  JOIN pakn.unit_closure c ON c.ancestor = p_root
	  JOIN pakn.stat_response_month s ON s.unit_code = c.descendant
	   AND s.month BETWEEN p.f AND p.t
	 WHERE p.monthly AND (p_dim IS NULL OR s.dimension = p_dim)
	UNION ALL
	SELECT s.unit_code, s.dimension, s.category, s.wdays, s.answers
	  FROM pakn.stat_pieces(p_from, p_to) p
	  JOIN pakn.unit_closure c ON c.ancestor = p_root
	  JOIN pakn.stat_response s ON s.unit_code = c.descendant
	   AND s.day BETWEEN p.f AND p.t
	 WHERE NOT p.monthly AND (p_dim IS NULL OR s.dimension = p_dim)
	UNION ALL
	SELECT s.unit_code, s.dimension, s.category, s.wdays, 1
	  FROM pakn.unit_closure c
	  JOIN pakn.stat_delta s ON s.unit_code = c.descendant
	   AND s.day BETWEEN p_from AND p_to
	 WHERE c.ancestor = p_root AND s.wdays IS NOT NULL
	   AND (p_dim IS NULL OR s.dimension = p_dim)
$$;

-- Open complaints past their deadline now, in p_root's subtree, grouped
-- like the rows of pakn.stat_figures.
CREATE OR REPLACE FUNCTION pakn.stat_overdue_counts(p_root text, p_by text,
	p_dim smallint)
RETURNS TABLE (k text, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT pakn.stat_key(p_by, p_root, c2.ancestor, c.dimension,
			c.category_code), count(*)
	  FROM pakn.complaint c
	  JOIN pakn.unit_closure c1 ON c1.descendant = c.responsible_unit
	   AND c1.ancestor = p_root
	  LEFT JOIN pakn.unit_closure c2 ON p_by LIKE 'unit%'
	   AND c2.descendant = c1.descendant AND c2.depth = c1.depth - 1
	 WHERE c.status = 'open' AND c.due_at <= now()
	   AND (p_dim IS NULL OR c.dimension = p_dim)
	 GROUP BY 1
$$;

-- The composite score on PAPI's 1-10 scale: 1 + 9 x the mean of the
-- on-time rate and the satisfaction rate (as fractions), of whichever of
-- the two has data; NULL when neither has.
CREATE OR REPLACE FUNCTION pakn.stat_score(c pakn.stat_counts) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	-- One exact division, so 5.875 rounds to 5.88.
	SELECT round(1 + 9 * CASE
		WHEN c.answered > 0 AND c.ratings > 0
		THEN (c.on_time * c.ratings + c.satisfied * c.answered)::numeric
			/ (2 * c.answered * c.ratings)
		WHEN c.answered > 0 THEN c.on_time::numeric / c.answered
		WHEN c.ratings > 0 THEN c.satisfied::numeric / c.ratings END, 2)
$$;

-- A percentage with one decimal, NULL when there is nothing to divide.
CREATE OR REPLACE FUNCTION pakn.stat_pct(a bigint, b bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT round(100.0 * coalesce(a, 0) / nullif(b, 0), 1)
$$;

-- Every measure of a group as JSON, with its targets.
CREATE OR REPLACE FUNCTION pakn.stat_json(c pakn.stat_counts, p_on_time numeric,
	p_satisfaction numeric)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object(
		'received', coalesce(c.received, 0),
		'answered', coalesce(c.answered, 0),
		'answered_on_time', coalesce(c.on_time, 0),
		'answered_late', coalesce(c.answered - c.on_time, 0),
		'open_overdue', coalesce(c.overdue, 0),
		'on_time_rate', pakn.stat_pct(c.on_time, c.answered),
		'on_time_target_met', 100.0 * c.on_time / nullif(c.answered, 0)
			>= p_on_time,
		'median_days', c.median_days,
		'p90_days', c.p90_days,
		'apologies', coalesce(c.apologies, 0),
		'transfers', coalesce(c.transfers, 0),
		'reopens', coalesce(c.reopens, 0),
		'reopen_rate', pakn.stat_pct(c.reopens, c.answered),
		'ratings', coalesce(c.ratings, 0),
		'mean_score', round(c.rating_sum::numeric / nullif(c.ratings, 0), 2),
		'satisfaction_rate', pakn.stat_pct(c.satisfied, c.ratings),
		'satisfaction_target_met', 100.0 * c.satisfied
			/ nullif(c.ratings, 0) >= p_satisfaction,
		'score', pakn.stat_score(c))
$$;

-- The measures a public report shows: no complaint, no person.
CREATE OR REPLACE FUNCTION pakn.stat_public_json(j jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_object_agg(key, value) FROM jsonb_each(j)
	 WHERE key IN ('received', 'answered', 'answered_on_time',
		'on_time_rate', 'on_time_target_met', 'ratings',
		'satisfaction_rate', 'satisfaction_target_met', 'score')
$$;

-- PAPI's four tiers: quartiles of the rank among n ranked units.
CREATE OR REPLACE FUNCTION pakn.stat_tier(p_rank bigint, p_n bigint) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_rank IS NOT NULL AND p_n > 0
		THEN (4 * (p_rank - 1) / p_n)::integer + 1 END
$$;

-- Every figure a statistics document of p_unit shows, from one read of
-- the rollups per period: the current period over the scope (p_parent's
-- subtree when p_rank and p_unit has a parent, to rank it among its
-- siblings; else p_unit's), the previous period over p_unit's subtree.
-- cur tells the period; g the grouping:
--   row     the table's rows, keyed by p_by like pakn.stat_key (the child
--           of p_unit, p_unit for its own complaints; the dimension; the
--           category; '' for none); by unit, ranked among the children;
--   total   p_unit's subtree;
--   sib     each child of p_parent (p_rank only), ranked;
--   sibdim  each child of p_parent per dimension (part; p_rank and by
--           dimension only), ranked per dimension.
-- Ranks: 1 = best score, ties share a rank; units without a score and
-- the parent's own complaints are not ranked. Medians for row and total.
-- Callers run it with the settings of pakn.stats_table (no SET here: the
-- planner must inline it to see the unit and the days).
CREATE OR REPLACE FUNCTION pakn.stat_figures(p_unit text, p_parent text,
	pr pakn.stat_range, p_by text, p_dim smallint, p_rank boolean)
RETURNS SETOF pakn.stat_figure
LANGUAGE sql STABLE AS $$
	WITH map AS MATERIALIZED (
		-- Every unit of the scope: the child of the scope's root it lies
		-- under (sib, NULL for the root itself) and, when it is in
		-- p_unit's subtree (mine), the child of p_unit it lies under
		-- (sub, NULL for p_unit itself).
		SELECT c1.descendant AS u,
		       (SELECT c2.ancestor FROM pakn.unit_closure c2
			 WHERE c2.descendant = c1.descendant
			   AND c2.depth = c1.depth - 1) AS sib,
		       cu.depth IS NOT NULL AS mine,
		       (SELECT c3.ancestor FROM pakn.unit_closure c3
			 WHERE c3.descendant = c1.descendant
			   AND c3.depth = cu.depth - 1) AS sub
		  FROM pakn.unit_closure c1
		  LEFT JOIN pakn.unit_closure cu ON cu.ancestor = p_unit
		   AND cu.descendant = c1.descendant
		 WHERE c1.ancestor = CASE WHEN p_rank AND p_parent IS NOT NULL
			THEN p_parent ELSE p_unit END),
	base AS MATERIALIZED (
		-- The counters per period, unit grouping, dimension and
		-- category: one read of the rollups per period.
		SELECT x.cur, m.sib, m.mine, m.sub, x.dimension, x.category,
		       sum(x.received) AS received, sum(x.answered) AS answered,
		       sum(x.on_time) AS on_time, sum(x.apologies) AS apologies,
		       sum(x.transfers) AS transfers, sum(x.reopens) AS reopens,
		       sum(x.ratings) AS ratings, sum(x.rating_sum) AS rating_sum,
		       sum(x.satisfied) AS satisfied
		  FROM (SELECT true AS cur, s.*
			  FROM pakn.stat_span(CASE WHEN p_rank
				AND p_parent IS NOT NULL THEN p_parent
				ELSE p_unit END, pr.from_day, pr.to_day, p_dim) s
			UNION ALL
			SELECT false, s.*
			  FROM pakn.stat_span(p_unit, pr.prev_from, pr.prev_to,
				p_dim) s) x
		  JOIN map m ON m.u = x.unit_code
		 GROUP BY 1, 2, 3, 4, 5, 6),
	hbase AS MATERIALIZED (
		-- The response-time histograms of p_unit's subtree, likewise.
		SELECT x.cur, m.sub, x.dimension, x.category, x.wdays,
		       sum(x.answers) AS answers
		  FROM (SELECT true AS cur, s.*
			  FROM pakn.stat_span_response(p_unit, pr.from_day,
				pr.to_day, p_dim) s
			UNION ALL
			SELECT false, s.*
			  FROM pakn.stat_span_response(p_unit, pr.prev_from,
				pr.prev_to, p_dim) s) x
		  JOIN map m ON m.u = x.unit_code
		 GROUP BY 1, 2, 3, 4, 5),
	sums AS (
		-- Each summed row under every grouping it counts in.
		SELECT x.g, b.cur, x.k, x.part, sum(b.received) AS received,
		       sum(b.answered) AS answered, sum(b.on_time) AS on_time,
		       sum(b.apologies) AS apologies, sum(b.transfers) AS transfers,
		       sum(b.reopens) AS reopens, sum(b.ratings) AS ratings,
		       sum(b.rating_sum) AS rating_sum, sum(b.satisfied) AS satisfied
		  FROM base b, LATERAL (VALUES
			('row', pakn.stat_key(p_by, p_unit, b.sub, b.dimension,
				b.category), ''),
			('total', '', ''),
			('sib', b.sib, ''),
			('sibdim', b.sib, b.dimension::text)) x(g, k, part)
		 WHERE CASE x.g
			WHEN 'sib' THEN p_rank AND p_parent IS NOT NULL AND b.cur
				AND b.sib IS NOT NULL
			WHEN 'sibdim' THEN p_rank AND p_parent IS NOT NULL
				AND p_by = 'dimension' AND b.cur AND b.sib IS NOT NULL
			ELSE b.mine END
		 GROUP BY 1, 2, 3, 4),
	hist AS (
		SELECT x.g, h.cur, x.k, h.wdays, sum(h.answers) AS n
		  FROM hbase h, LATERAL (VALUES
			('row', pakn.stat_key(p_by, p_unit, h.sub, h.dimension,
				h.category)),
			('total', '')) x(g, k)
		 GROUP BY 1, 2, 3, 4),
	cum AS (
		SELECT g, cur, k, wdays,
		       sum(n) OVER (PARTITION BY g, cur, k ORDER BY wdays) AS c,
		       sum(n) OVER (PARTITION BY g, cur, k) AS total
		  FROM hist),
	pct AS (
		SELECT g, cur, k,
		       min(wdays) FILTER (WHERE c >= ceil(0.5 * total)) AS med,
		       min(wdays) FILTER (WHERE c >= ceil(0.9 * total)) AS p90
		  FROM cum GROUP BY 1, 2, 3),
	figs AS (
		SELECT s.g, s.cur, s.k, s.part, (s.k, s.received, s.answered,
			s.on_time, s.apologies, s.transfers, s.reopens, s.ratings,
			s.rating_sum, s.satisfied, p.med, p.p90,
			NULL)::pakn.stat_counts AS c
		  FROM sums s
		  LEFT JOIN pct p ON p.g = s.g AND p.cur = s.cur AND p.k = s.k),
	ranked AS (
		SELECT g, cur, k, part,
		       rank() OVER (w ORDER BY pakn.stat_score(c) DESC) AS rnk,
		       count(*) OVER w AS n
		  FROM figs
		 WHERE pakn.stat_score(c) IS NOT NULL AND (g IN ('sib', 'sibdim')
			OR g = 'row' AND p_by = 'unit' AND k <> p_unit)
		WINDOW w AS (PARTITION BY g, cur, part))
	SELECT f.g, f.cur, f.k, f.part, f.c, r.rnk, r.n,
	       pakn.stat_tier(r.rnk, r.n)
	  FROM figs f LEFT JOIN ranked r USING (g, cur, k, part)
$$;

-- The groups a table shows: every dimension, every child unit (and the
-- unit itself when it has own complaints), or every category.
CREATE OR REPLACE FUNCTION pakn.stat_keys(p_unit text, p_by text, p_dim smallint)
RETURNS TABLE (k text, name text, ord integer)
LANGUAGE sql STABLE AS $$
	SELECT d.code::text, d.name_vi, d.code::integer FROM pakn.papi_dimension d
	 WHERE p_by = 'dimension' AND (p_dim IS NULL OR d.code = p_dim)
	UNION ALL
	SELECT c.code, c.name, (row_number() OVER (ORDER BY c.dimension, c.code))::integer
	  FROM pakn.category c
	 WHERE p_by = 'category' AND (p_dim IS NULL OR c.dimension = p_dim)
	UNION ALL
	SELECT u.code, u.name, (row_number() OVER (ORDER BY u.code))::integer
	  FROM pakn.unit u WHERE p_by = 'unit' AND u.parent_code = p_unit
	UNION ALL
	SELECT u.code, u.name, 0 FROM pakn.unit u
	 WHERE p_by = 'unit' AND u.code = p_unit
	   AND EXISTS (SELECT 1 FROM pakn.stat_day_all s WHERE s.unit_code = u.code)
$$;

-- Who may read the statistics of p_unit with this token: NULL when
-- allowed, else the HTTP status and reason. Leaders and admins read their
-- unit's subtree; officers read nothing.
CREATE OR REPLACE FUNCTION pakn.stats_access(p_token text, p_unit text,
	OUT status integer, OUT reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	o pakn.official;
BEGIN
	IF coalesce(p_token, '') = '' THEN
		status := 401; reason := 'missing token (Authorization: Bearer)';
		RETURN;
	END IF;
	o := pakn.token_official(p_token);
	IF o.id IS NULL THEN
		status := 401; reason := 'unknown or revoked token';
	ELSIF o.role NOT IN ('leader', 'admin') THEN
		status := 403; reason := 'statistics are for leaders';
	ELSIF NOT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.code = p_unit) THEN
		status := 404; reason := format('no unit %s', p_unit);
	ELSIF NOT EXISTS (SELECT 1 FROM pakn.unit_closure c
			WHERE c.ancestor = o.unit_code AND c.descendant = p_unit) THEN
		status := 403; reason := format('unit %s is outside your unit %s',
			p_unit, o.unit_code);
	END IF;
END;
$$;

-- The open, overdue complaints of a subtree, most overdue first: ticket,
-- unit, category, days late. No phone number; no text of sensitive ones.
CREATE OR REPLACE FUNCTION pakn.stats_overdue(p_unit text, p_limit integer)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(x ORDER BY x.due_at, x.ticket), '[]')
	  FROM (SELECT c.ticket, c.responsible_unit AS unit, u.name AS unit_name,
		       c.category_code AS category, cat.name AS category_name,
		       c.dimension, c.due_at, pakn.due_vi(c.due_at) AS due,
		       pakn.working_days_between(
			pakn.local_date(c.due_at - interval '1 second'),
			pakn.local_date(now())) AS days_late,
		       c.apologized_at IS NOT NULL AS apologised,
		       CASE WHEN c.sensitive THEN NULL ELSE left(c.text, 80) END AS text
		  FROM pakn.complaint c
		  JOIN pakn.unit_closure cl ON cl.descendant = c.responsible_unit
		   AND cl.ancestor = p_unit
		  JOIN pakn.unit u ON u.code = c.responsible_unit
		  JOIN pakn.category cat ON cat.code = c.category_code
		 WHERE c.status = 'open' AND c.due_at <= now()
		 ORDER BY c.due_at, c.ticket LIMIT p_limit) x
$$;

-- Keep only the public measures when p_public.
CREATE OR REPLACE FUNCTION pakn.stats_cut(j jsonb, p_public boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_public THEN pakn.stat_public_json(j) ELSE j END
$$;

-- The counters c with their open, overdue count.
CREATE OR REPLACE FUNCTION pakn.stat_with_overdue(c pakn.stat_counts, p_n bigint)
RETURNS pakn.stat_counts
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	c.overdue := p_n;
	RETURN c;
END;
$$;

-- The total of a subtree as JSON: its figures (t) with the open, overdue
-- count, its rank among its siblings, and the previous period's figures
-- (p).
CREATE OR REPLACE FUNCTION pakn.stat_total_json(t pakn.stat_counts, p pakn.stat_counts,
	p_overdue bigint, p_rank bigint, p_ranked bigint, p_tier integer,
	p_on_time numeric, p_satisfaction numeric, p_public boolean)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.stats_cut(pakn.stat_json(pakn.stat_with_overdue(t,
			p_overdue), p_on_time, p_satisfaction), p_public)
	     || CASE WHEN p_public THEN '{}'::jsonb ELSE jsonb_build_object(
		'rank', p_rank, 'ranked', p_ranked, 'tier', p_tier) END
	     || jsonb_build_object('previous', pakn.stats_cut(pakn.stat_json(
		p, p_on_time, p_satisfaction), p_public))
$$;

-- The total of p_unit's subtree, with its rank among its siblings (the
-- children of p_parent; none when NULL). Settings as pakn.stats_table's.
CREATE OR REPLACE FUNCTION pakn.stats_total(p_unit text, p_parent text, pr pakn.stat_range,
	p_dim smallint, p_on_time numeric, p_satisfaction numeric,
	p_public boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET jit = off SET plan_cache_mode = force_custom_plan SET work_mem = '64MB'
AS $$
DECLARE
	v jsonb;
BEGIN
	WITH f AS MATERIALIZED (SELECT * FROM pakn.stat_figures(p_unit,
		p_parent, pr, '', p_dim, NOT p_public))
	SELECT pakn.stat_total_json(t.c, p.c, (SELECT sum(o.n)::bigint
			FROM pakn.stat_overdue_counts(p_unit, '', p_dim) o),
		rk.rnk, rk.n, rk.tier, p_on_time, p_satisfaction, p_public)
	  INTO v
	  FROM (SELECT 1) one
	  LEFT JOIN f t ON t.g = 'total' AND t.cur
	  LEFT JOIN f p ON p.g = 'total' AND NOT p.cur
	  LEFT JOIN f rk ON rk.g = 'sib' AND rk.k = p_unit;
	RETURN v;
END;
$$;

-- The statistics table of p_unit for a period: one row per group of
-- p_by ('dimension', 'unit', 'category'), the total, each with the
-- previous period's figures, ranks among siblings and tiers. Every
-- figure comes from one call of pakn.stat_figures. Settings (measured
-- with contrib/bench/stats):
--   plan_cache_mode: plan it for this unit and these days every time. A
--     generic plan cannot see how many units a subtree has, guesses 3 for
--     a province's 177 and joins them by nested loop, yet looks cheaper,
--     so PL/pgSQL switched to it from the sixth call of a session: 1.3 s
--     instead of 0.13 s for a province-year.
--   jit: the planner cannot tell how few rows the pieces of a period
--     select, its cost estimate passes jit_above_cost, and LLVM compiling
--     took 180 ms of a 230 ms province document.
--   work_mem: the planner expects about as many groups as rows read
--     (54 000 for a province-year, 528 in fact) and, with 4 MB, sorted
--     them instead of hashing them: 120 ms instead of 35.
CREATE OR REPLACE FUNCTION pakn.stats_table(p_unit text, pr pakn.stat_range, p_by text,
	p_dim smallint, p_on_time numeric, p_satisfaction numeric,
	p_public boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET jit = off SET plan_cache_mode = force_custom_plan SET work_mem = '64MB'
AS $$
DECLARE
	v_parent text;
	v_fig pakn.stat_figure[];
	v_rows jsonb;
	v_overdue bigint;
	v_total jsonb;
BEGIN
	SELECT parent_code INTO v_parent FROM pakn.unit WHERE code = p_unit;
	SELECT array_agg(f) INTO v_fig FROM pakn.stat_figures(p_unit, v_parent,
		pr, p_by, p_dim, NOT p_public) f;
	WITH f AS MATERIALIZED (SELECT * FROM unnest(v_fig)),
	od AS MATERIALIZED (SELECT * FROM pakn.stat_overdue_counts(p_unit,
		p_by, p_dim))
	SELECT (SELECT jsonb_agg(jsonb_build_object('key', ks.k, 'name', ks.name,
			'own', p_by = 'unit' AND ks.k = p_unit)
		|| pakn.stats_cut(pakn.stat_json(pakn.stat_with_overdue(cur.c,
			od.n), p_on_time, p_satisfaction), p_public)
		|| CASE WHEN p_by = 'category' OR p_public THEN '{}'::jsonb
		   WHEN p_by = 'unit' THEN jsonb_build_object('rank', cur.rnk,
			'ranked', cur.n, 'tier', cur.tier)
		   ELSE jsonb_build_object('rank', sd.rnk, 'ranked', sd.n,
			'tier', sd.tier) END
		|| jsonb_build_object('previous', pakn.stats_cut(
			pakn.stat_json(prev.c, p_on_time, p_satisfaction), p_public)
			|| CASE WHEN p_by = 'unit' AND NOT p_public
			   THEN jsonb_build_object('rank', prev.rnk) ELSE '{}' END)
		ORDER BY ks.ord, ks.k)
		  FROM pakn.stat_keys(p_unit, p_by, p_dim) ks
		  LEFT JOIN f cur ON cur.g = 'row' AND cur.cur AND cur.k = ks.k
		  LEFT JOIN f prev ON prev.g = 'row' AND NOT prev.cur
		   AND prev.k = ks.k
		  LEFT JOIN f sd ON sd.g = 'sibdim' AND sd.k = p_unit
		   AND sd.part = ks.k
		  LEFT JOIN od ON od.k = ks.k),
	       (SELECT sum(n) FROM od)
	  INTO v_rows, v_overdue;
	SELECT pakn.stat_total_json(t.c, p.c, v_overdue, rk.rnk, rk.n, rk.tier,
		p_on_time, p_satisfaction, p_public)
	  INTO v_total
	  FROM (SELECT 1) one
	  LEFT JOIN unnest(v_fig) t ON t.g = 'total' AND t.cur
	  LEFT JOIN unnest(v_fig) p ON p.g = 'total' AND NOT p.cur
	  LEFT JOIN unnest(v_fig) rk ON rk.g = 'sib' AND rk.k = p_unit;
	RETURN jsonb_build_object('rows', coalesce(v_rows, '[]'), 'total', v_total);
END;
$$;

-- The statistics document every reader gets (API, CSV, dashboard, public
-- report, paknctl report): {"status": 200, ...} or {"status": 4xx,
-- "error": reason}. p_token NULL with p_public: the public report (units,
-- no personal data, no list of complaints).
CREATE OR REPLACE FUNCTION pakn.stats_doc(p_token text, p_unit text, p_period text,
	p_by text, p_dimension integer, p_cutoff integer, p_on_time numeric,
	p_satisfaction numeric, p_public boolean, p_overdue integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	a record;
	o pakn.official;
	u pakn.unit;
	pr pakn.stat_range;
	v_unit text := p_unit;
	v_by text := coalesce(nullif(p_by, ''), CASE WHEN p_public THEN 'unit'
		ELSE 'dimension' END);
	t jsonb;
BEGIN
	IF v_by NOT IN ('dimension', 'unit', 'category') THEN
		RETURN jsonb_build_object('status', 400, 'error',
			'by must be dimension, unit or category');
	ELSIF p_dimension IS NOT NULL AND p_dimension NOT BETWEEN 1 AND 8 THEN
		RETURN jsonb_build_object('status', 400, 'error',
			'dimension must be 1 to 8');
	END IF;
	IF NOT p_public THEN
		o := pakn.token_official(coalesce(p_token, ''));
		v_unit := coalesce(nullif(p_unit, ''), o.unit_code, p_unit);
		a := pakn.stats_access(p_token, v_unit);
		IF a.status IS NOT NULL THEN
			RETURN jsonb_build_object('status', a.status, 'error', a.reason);
		END IF;
	ELSIF coalesce(v_unit, '') = '' THEN
		SELECT code INTO v_unit FROM pakn.unit WHERE parent_code IS NULL
		 ORDER BY kind <> 'province', code LIMIT 1;
	END IF;
	SELECT * INTO u FROM pakn.unit WHERE code = v_unit;
	IF u.code IS NULL THEN
		RETURN jsonb_build_object('status', 404, 'error',
			format('no unit %s', coalesce(v_unit, '')));
	END IF;
	BEGIN
		pr := pakn.stat_period(coalesce(nullif(p_period, ''),
			to_char(pakn.local_date(now()), 'YYYY-MM')), p_cutoff);
	EXCEPTION WHEN invalid_parameter_value OR datetime_field_overflow
		OR invalid_datetime_format THEN
		RETURN jsonb_build_object('status', 400, 'error', SQLERRM);
	END;
	t := pakn.stats_table(u.code, pr, v_by, p_dimension::smallint,
		p_on_time, p_satisfaction, p_public);
	RETURN jsonb_build_object('status', 200,
		'unit', jsonb_build_object('code', u.code, 'name', u.name,
			'kind', u.kind, 'parent', u.parent_code),
		'viewer', CASE WHEN o.id IS NOT NULL THEN jsonb_build_object(
			'name', o.name, 'unit', o.unit_code, 'role', o.role) END,
		'period', jsonb_build_object('label', pr.label, 'from', pr.from_day,
			'to', pr.to_day, 'cutoff_day', p_cutoff,
			'final', pr.to_day < pakn.local_date(now()),
			'previous', jsonb_build_object('from', pr.prev_from,
				'to', pr.prev_to)),
		'by', v_by, 'dimension', p_dimension,
		'targets', jsonb_build_object('on_time_rate', p_on_time,
			'satisfaction_rate', p_satisfaction),
		'generated_at', now(),
		'total', t->'total', 'rows', t->'rows',
		'overdue', CASE WHEN NOT p_public AND coalesce(p_overdue, 0) > 0
			THEN pakn.stats_overdue(u.code, p_overdue) END);
END;
$$;

-- A rate for an SMS: "92,5%" or "-" without data.
CREATE OR REPLACE FUNCTION pakn.stat_pct_vi(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v IS NULL OR v = 'null'::jsonb THEN '-'
		ELSE replace(v #>> '{}', '.', ',') || '%' END
$$;

-- pakn.stats_doc (009) with the survey figures of the same unit and
-- period in "surveys"; by = 'survey' asks for them as the rows of the
-- CSV (the document is computed by unit).
CREATE OR REPLACE FUNCTION pakn.stats_doc_surveys(p_token text, p_unit text,
	p_period text, p_by text, p_dimension integer, p_cutoff integer,
	p_on_time numeric, p_satisfaction numeric, p_public boolean,
	p_overdue integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_survey boolean := p_by = 'survey';
	d jsonb := pakn.stats_doc(p_token, p_unit, p_period,
		CASE WHEN v_survey THEN 'unit' ELSE p_by END, p_dimension, p_cutoff,
		p_on_time, p_satisfaction, p_public, p_overdue);
BEGIN
	IF (d->>'status')::integer <> 200 THEN
		RETURN d;
	END IF;
	d := d || jsonb_build_object('surveys', pakn.survey_stats(
		d->'unit'->>'code', (d->'period'->>'from')::date,
		(d->'period'->>'to')::date));
	IF v_survey THEN
		d := d || '{"by": "survey"}';
	END IF;
	RETURN d;
END;
$$;
