-- 009: statistics for leaders, per unit subtree x PAPI dimension x period.
--
-- Every ledger event that counts (routed, answered, apologised,
-- transferred, reopened) and every rating appends one row to
-- pakn.stat_delta in the same transaction, by trigger. Plain inserts never
-- wait for each other, so busy units and batched commits cannot deadlock
-- on shared counters. pakn.stats_fold, run by paknd's timer under an
-- advisory lock, moves deltas into the daily rollups (pakn.stat_day and
-- the response-time histogram pakn.stat_response) and the monthly ones
-- (pakn.stat_month, pakn.stat_response_month) in one transaction: a
-- delta is counted either in the deltas or in the rollups, never both.
-- Queries read rollups plus the few unfolded deltas, and reach a subtree
-- through the closure of the unit tree (pakn.unit_closure), so they never
-- read raw complaints (except the live list of open, overdue ones): whole
-- months from the monthly rollups, the days of partial months from the
-- daily ones, each unit through the primary keys, and every figure of a
-- document (rows, total, previous period, ranks) from one read per
-- period (pakn.stat_figures). contrib/bench/README.md has the plans at
-- national scale.

-- Every (ancestor, descendant) pair of the unit tree, with the distance
-- between them (0: the unit itself).
CREATE TABLE pakn.unit_closure (
	ancestor   text NOT NULL,
	descendant text NOT NULL,
	depth      integer NOT NULL CHECK (depth >= 0),
	PRIMARY KEY (ancestor, descendant)
);
CREATE INDEX unit_closure_descendant_idx
	ON pakn.unit_closure (descendant, depth);

-- Keep the closure in step with the tree.
CREATE FUNCTION pakn.unit_closure_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM pakn.unit_closure
		 WHERE ancestor = OLD.code OR descendant = OLD.code;
		RETURN NULL;
	END IF;
	PERFORM pakn.unit_closure_refresh(NEW.code);
	RETURN NULL;
END;
$$;
CREATE TRIGGER unit_closure_insert AFTER INSERT ON pakn.unit
	FOR EACH ROW EXECUTE FUNCTION pakn.unit_closure_trigger();
CREATE TRIGGER unit_closure_move AFTER UPDATE OF parent_code ON pakn.unit
	FOR EACH ROW WHEN (OLD.parent_code IS DISTINCT FROM NEW.parent_code)
	EXECUTE FUNCTION pakn.unit_closure_trigger();
CREATE TRIGGER unit_closure_delete AFTER DELETE ON pakn.unit
	FOR EACH ROW EXECUTE FUNCTION pakn.unit_closure_trigger();

INSERT INTO pakn.unit_closure (ancestor, descendant, depth)
SELECT DISTINCT ON (a.code, u.code) a.code, u.code, a.distance
  FROM pakn.unit u, pakn.unit_ancestors(u.code) a
 ORDER BY a.code, u.code, a.distance;

-- Daily rollups per unit, dimension and category ('' when a rating has no
-- complaint). The day is the local date of the event.
CREATE TABLE pakn.stat_day (
	unit_code  text NOT NULL,
	day        date NOT NULL,
	dimension  smallint NOT NULL,
	category   text NOT NULL,
	received   integer NOT NULL DEFAULT 0,
	answered   integer NOT NULL DEFAULT 0,
	on_time    integer NOT NULL DEFAULT 0,
	apologies  integer NOT NULL DEFAULT 0,
	transfers  integer NOT NULL DEFAULT 0,
	reopens    integer NOT NULL DEFAULT 0,
	ratings    integer NOT NULL DEFAULT 0,
	rating_sum integer NOT NULL DEFAULT 0,
	satisfied  integer NOT NULL DEFAULT 0,
	PRIMARY KEY (unit_code, day, dimension, category)
);

-- How many answers of a day took wdays working days (histogram for the
-- median and the 90th percentile).
CREATE TABLE pakn.stat_response (
	unit_code text NOT NULL,
	day       date NOT NULL,
	dimension smallint NOT NULL,
	category  text NOT NULL,
	wdays     integer NOT NULL,
	answers   integer NOT NULL,
	PRIMARY KEY (unit_code, day, dimension, category, wdays)
);

-- The same rollups per calendar month (month: its first day), kept by the
-- same fold: a month's row is the sum of its days' rows. Long periods read
-- whole months here and only the days of partial months from the daily
-- tables, about 10 times fewer rows for a quarter or a year.
CREATE TABLE pakn.stat_month (
	unit_code  text NOT NULL,
	month      date NOT NULL CHECK (extract(day FROM month) = 1),
	dimension  smallint NOT NULL,
	category   text NOT NULL,
	received   integer NOT NULL DEFAULT 0,
	answered   integer NOT NULL DEFAULT 0,
	on_time    integer NOT NULL DEFAULT 0,
	apologies  integer NOT NULL DEFAULT 0,
	transfers  integer NOT NULL DEFAULT 0,
	reopens    integer NOT NULL DEFAULT 0,
	ratings    integer NOT NULL DEFAULT 0,
	rating_sum integer NOT NULL DEFAULT 0,
	satisfied  integer NOT NULL DEFAULT 0,
	PRIMARY KEY (unit_code, month, dimension, category)
);

CREATE TABLE pakn.stat_response_month (
	unit_code text NOT NULL,
	month     date NOT NULL CHECK (extract(day FROM month) = 1),
	dimension smallint NOT NULL,
	category  text NOT NULL,
	wdays     integer NOT NULL,
	answers   integer NOT NULL,
	PRIMARY KEY (unit_code, month, dimension, category, wdays)
);

-- One counted event or rating, not yet folded into the rollups.
CREATE TABLE pakn.stat_delta (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	unit_code  text NOT NULL,
	day        date NOT NULL,
	dimension  smallint NOT NULL,
	category   text NOT NULL,
	received   smallint NOT NULL DEFAULT 0,
	answered   smallint NOT NULL DEFAULT 0,
	on_time    smallint NOT NULL DEFAULT 0,
	apologies  smallint NOT NULL DEFAULT 0,
	transfers  smallint NOT NULL DEFAULT 0,
	reopens    smallint NOT NULL DEFAULT 0,
	ratings    smallint NOT NULL DEFAULT 0,
	rating_sum smallint NOT NULL DEFAULT 0,
	satisfied  smallint NOT NULL DEFAULT 0,
	wdays      integer
);
CREATE INDEX stat_delta_unit_idx ON pakn.stat_delta (unit_code, day);

-- Rollups and pending deltas together: what every query reads.
CREATE VIEW pakn.stat_day_all AS
	SELECT unit_code, day, dimension, category, received, answered,
	       on_time, apologies, transfers, reopens, ratings, rating_sum,
	       satisfied
	  FROM pakn.stat_day
	UNION ALL
	SELECT unit_code, day, dimension, category, received::integer,
	       answered::integer, on_time::integer, apologies::integer,
	       transfers::integer, reopens::integer, ratings::integer,
	       rating_sum::integer, satisfied::integer
	  FROM pakn.stat_delta;

CREATE VIEW pakn.stat_response_all AS
	SELECT unit_code, day, dimension, category, wdays, answers
	  FROM pakn.stat_response
	UNION ALL
	SELECT unit_code, day, dimension, category, wdays, 1
	  FROM pakn.stat_delta WHERE wdays IS NOT NULL;

-- Count a ledger event in the transaction that appends it.
CREATE FUNCTION pakn.stat_event_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.stat_append(d) FROM pakn.stat_of_event(NEW) d;
	RETURN NULL;
END;
$$;
CREATE TRIGGER complaint_event_stats AFTER INSERT ON pakn.complaint_event
	FOR EACH ROW WHEN (NEW.event IN ('routed', 'answered', 'apologised',
		'transferred', 'reopened'))
	EXECUTE FUNCTION pakn.stat_event_trigger();

-- Count a rating in the transaction that stores it.
CREATE FUNCTION pakn.stat_rating_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.stat_append(d) FROM pakn.stat_of_rating(NEW) d;
	RETURN NULL;
END;
$$;
CREATE TRIGGER rating_stats AFTER INSERT ON pakn.rating
	FOR EACH ROW EXECUTE FUNCTION pakn.stat_rating_trigger();

-- A reporting period: 2026-10 (month), 2026-Q3, 2026-H1, 2026-M9 (nine
-- months), 2026 (year) or 2026-01-05..2026-02-20 (any dates, inclusive).
-- With a cut-off day c (1-28; 0: calendar months) a period ends on day c
-- of its last month and starts the day after the previous period's
-- cut-off. The previous period is the one before (month, quarter, half)
-- or the same months a year earlier (nine months, year); for dates, the
-- as long period just before.
CREATE TYPE pakn.stat_range AS (
	label     text,
	from_day  date,
	to_day    date,
	prev_from date,
	prev_to   date
);

-- Counters of one group of rows (a dimension, a unit, a category).
CREATE TYPE pakn.stat_counts AS (
	k           text,
	received    bigint,
	answered    bigint,
	on_time     bigint,
	apologies   bigint,
	transfers   bigint,
	reopens     bigint,
	ratings     bigint,
	rating_sum  bigint,
	satisfied   bigint,
	median_days integer,
	p90_days    integer,
	overdue     bigint
);

-- One figure of a statistics document (see pakn.stat_figures).
CREATE TYPE pakn.stat_figure AS (
	g    text,
	cur  boolean,
	k    text,
	part text,
	c    pakn.stat_counts,
	rnk  bigint,
	n    bigint,
	tier integer
);

-- BC from a leader's phone: this month's figures of their unit's subtree,
-- from the first of the month to today, in one SMS.
INSERT INTO pakn.template (code, body, description) VALUES
	('report', 'BC {unit} {month}: nhận {received}, trả lời {answered}, đúng hạn {on_time} (mục tiêu {t_on_time}%), hài lòng {satisfaction} (mục tiêu {t_satisfaction}%), quá hạn {overdue}.',
		'BC: a leader''s monthly figures by SMS'),
	('report_refused', 'Chỉ lãnh đạo đã đăng ký số điện thoại mới nhận được báo cáo BC.',
		'BC from a phone that is not a leader''s');
