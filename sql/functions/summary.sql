-- functions/summary.sql: leaders' periodic summaries by SMS
-- (daemon/summary.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- The moment the schedule reads as now: the setting summary_now when a
-- test (or an operator replaying a missed run) sets it, else now().
CREATE OR REPLACE FUNCTION pakn.summary_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT value::timestamptz FROM pakn.setting
			  WHERE name = 'summary_now'), now())
$$;

-- The periods whose summary is due at p_now (local time): the week, from
-- Monday 07:30, covering the week before; the reporting month, from its
-- cut-off day (p_cutoff; 0: the month's last day) at 07:30, covering the
-- period so far. A period is due for one day, so a paknd started later
-- does not send old news.
CREATE OR REPLACE FUNCTION pakn.summary_due(p_now timestamptz, p_cutoff integer,
	p_weekly boolean, p_monthly boolean)
RETURNS TABLE (period text, label text, from_day date, to_day date)
LANGUAGE sql STABLE AS $$
	WITH t AS (SELECT (p_now AT TIME ZONE 'Asia/Ho_Chi_Minh') AS l),
	w AS (SELECT (t.l::date - (extract(isodow FROM t.l)::integer - 1)
			- CASE WHEN t.l::time < time '07:30'
			    AND extract(isodow FROM t.l) = 1 THEN 7 ELSE 0 END)
			AS monday, t.l FROM t),
	m AS (SELECT CASE WHEN p_cutoff BETWEEN 1 AND 28
			THEN make_date(extract(year FROM t.l)::integer,
				extract(month FROM t.l)::integer, p_cutoff)
			ELSE (date_trunc('month', t.l) + interval '1 month'
				- interval '1 day')::date END AS cut, t.l FROM t)
	SELECT 'week ' || to_char(w.monday, 'YYYY-MM-DD'),
	       format('Tuần %s-%s', to_char(w.monday - 7, 'DD/MM'),
		to_char(w.monday - 1, 'DD/MM')), w.monday - 7, w.monday - 1
	  FROM w
	 WHERE p_weekly AND w.l < (w.monday + 1) + time '07:30'
	UNION ALL
	SELECT 'month ' || r.label, format('Kỳ %s (%s-%s)', r.label,
		to_char(r.from_day, 'DD/MM'), to_char(m.cut, 'DD/MM')),
	       r.from_day, m.cut
	  FROM m, pakn.stat_period(to_char(m.cut, 'YYYY-MM'), p_cutoff) r
	 WHERE p_monthly AND m.l >= m.cut + time '07:30'
	   AND m.l < (m.cut + 1) + time '07:30'
$$;

-- The worst child unit of p_unit over a range: the lowest score, then
-- the most overdue; '-' when no child has figures.
CREATE OR REPLACE FUNCTION pakn.summary_worst(p_unit text, pr pakn.stat_range)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT r->>'name'
		  FROM jsonb_array_elements(pakn.stats_table(p_unit, pr, 'unit',
			NULL, 99, 85, false)->'rows') r
		 WHERE NOT (r->>'own')::boolean
		   AND (r->>'score' IS NOT NULL
			OR (r->>'open_overdue')::integer > 0)
		 ORDER BY (r->>'score')::numeric NULLS LAST,
			(r->>'open_overdue')::integer DESC, r->>'key'
		 LIMIT 1), '-')
$$;

-- Queue one leader's summary of a period; the SMS queued.
CREATE OR REPLACE FUNCTION pakn.summary_send(o pakn.official, p_gateway text,
	d record, p_on_time numeric, p_satisfaction numeric)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	pr pakn.stat_range := pakn.stat_period(to_char(d.from_day, 'YYYY-MM-DD')
		|| '..' || to_char(d.to_day, 'YYYY-MM-DD'), 0);
	t jsonb := pakn.stats_total(o.unit_code, NULL, pr, NULL, p_on_time,
		p_satisfaction, false);
BEGIN
	RETURN pakn.reply(p_gateway, o.phone, 'summary', jsonb_build_object(
		'label', d.label, 'unit', (SELECT name FROM pakn.unit
			WHERE code = o.unit_code),
		'received', t->'received', 'answered', t->'answered',
		'on_time', t->'answered_on_time',
		'on_time_rate', pakn.stat_pct_vi(t->'on_time_rate'),
		'overdue', t->'open_overdue',
		'satisfaction', pakn.stat_pct_vi(t->'satisfaction_rate'),
		'worst', pakn.summary_worst(o.unit_code, pr)), NULL, NULL);
END;
$$;

-- The schedule's pass (every paknd runs it): for each period due now and
-- each active leader who wants it, claim (leader, period) and queue the
-- summary in the same transaction; a claim another instance holds is
-- skipped. Through p_gateway (the first configured). Returns the SMS
-- queued.
CREATE OR REPLACE FUNCTION pakn.summary_run(p_gateway text, p_cutoff integer,
	p_weekly boolean, p_monthly boolean, p_on_time numeric,
	p_satisfaction numeric)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	d record;
	o pakn.official;
	n integer := 0;
	k integer;
BEGIN
	FOR d IN SELECT * FROM pakn.summary_due(pakn.summary_now(), p_cutoff,
			p_weekly, p_monthly) LOOP
		FOR o IN SELECT * FROM pakn.official x
			  WHERE x.active AND x.role = 'leader' AND x.summary_sms
			    AND NOT EXISTS (SELECT 1 FROM pakn.summary_claim s
				WHERE s.official_id = x.id AND s.period = d.period)
			  ORDER BY x.id LOOP
			INSERT INTO pakn.summary_claim (official_id, period, sms)
			VALUES (o.id, d.period, 0)
			ON CONFLICT DO NOTHING;
			CONTINUE WHEN NOT FOUND;
			k := pakn.summary_send(o, p_gateway, d, p_on_time,
				p_satisfaction);
			UPDATE pakn.summary_claim SET sms = k
			 WHERE official_id = o.id AND period = d.period;
			n := n + k;
		END LOOP;
	END LOOP;
	RETURN n;
END;
$$;
