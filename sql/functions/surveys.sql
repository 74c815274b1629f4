-- functions/surveys.sql: satisfaction surveys after public services,
-- and their statistics (daemon/survey.c, service.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-------------------------------------------------------------------------
-- Time. Every survey decision reads pakn.survey_now(): now(), moved by
-- the setting survey_clock_offset (an interval, absent in production) so
-- that tests and drills can play a morning or a night without waiting.
-------------------------------------------------------------------------

-- The survey worker's clock.
CREATE OR REPLACE FUNCTION pakn.survey_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT now() + coalesce((SELECT s.value::interval FROM pakn.setting s
		WHERE s.name = 'survey_clock_offset'), interval '0')
$$;

-- Is the local hour of t inside the quiet hours [p_start, p_end)? The
-- window may run over midnight (21 to 7); equal bounds: never quiet.
CREATE OR REPLACE FUNCTION pakn.survey_quiet(t timestamptz, p_start integer,
	p_end integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_start = p_end THEN false
		WHEN p_start > p_end THEN h >= p_start OR h < p_end
		ELSE h >= p_start AND h < p_end END
	  FROM (SELECT extract(hour FROM t AT TIME ZONE 'Asia/Ho_Chi_Minh')::integer
		AS h) x
$$;

-- Text cut to n characters, with a '.' when cut (SMS room).
CREATE OR REPLACE FUNCTION pakn.survey_short(s text, n integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN length(s) <= n THEN s
		ELSE rtrim(left(s, n - 1)) || '.' END
$$;

-- A survey's template variables.
CREATE OR REPLACE FUNCTION pakn.survey_vars(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'unit', pakn.survey_short(u.name, 30),
		'procedure', pakn.survey_short(r.procedure_name, 34),
		'missing', concat_ws(', ',
			CASE WHEN s.satisfaction IS NULL THEN 'hài lòng 1-5' END,
			CASE WHEN s.on_time IS NULL THEN 'đúng hẹn C/K' END,
			CASE WHEN s.money_asked IS NULL THEN 'bị đòi tiền C/K' END),
		'example', concat_ws(' ',
			CASE WHEN s.satisfaction IS NULL THEN '5' END,
			CASE WHEN s.on_time IS NULL THEN 'C' END,
			CASE WHEN s.money_asked IS NULL THEN 'K' END))
	  FROM pakn.survey s
	  JOIN pakn.service_record r ON r.id = s.service_id
	  JOIN pakn.unit u ON u.code = r.unit_code
	 WHERE s.id = p_id
$$;

-- A time written as a date (the end of the office day, 17:00 local) or a
-- date and time (local unless it names its zone); NULL if it is neither.
CREATE OR REPLACE FUNCTION pakn.survey_time(p text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p ~ '^\d{4}-\d{2}-\d{2}$' THEN
		RETURN (p::date + time '17:00') AT TIME ZONE 'Asia/Ho_Chi_Minh';
	ELSIF p ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$' THEN
		RETURN replace(p, 'T', ' ')::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';
	ELSIF p ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}(:?\d{2})?)$' THEN
		RETURN p::timestamptz;
	END IF;
	RETURN NULL;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
	RETURN NULL;
END;
$$;

-- "On time" as one-stop-shop software writes it: yes/no, true/false,
-- 1/0, C/K, đúng hạn / quá hạn / trễ hạn; NULL if none of them.
CREATE OR REPLACE FUNCTION pakn.survey_on_time_of(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN f IN ('yes', 'y', 'true', 't', '1', 'c', 'co',
			'dung han', 'dung hen', 'som han', 'truoc han', 'on_time',
			'on time') THEN true
		WHEN f IN ('no', 'n', 'false', 'f', '0', 'k', 'khong', 'qua han',
			'tre han', 'tre hen', 'cham', 'late') THEN false END
	  FROM (SELECT btrim(pakn.fold(coalesce(p, ''))) AS f) x
$$;

-- Why a service cannot be recorded, or NULL: the checks both the API and
-- the import make (the phone was normalised by paknd or paknctl).
CREATE OR REPLACE FUNCTION pakn.service_problem(p_unit text, p_code text, p_name text,
	p_received timestamptz, p_returned timestamptz, p_on_time boolean,
	p_file text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
		WHEN p_unit IS NULL OR NOT EXISTS (SELECT 1 FROM pakn.unit u
			WHERE u.code = p_unit)
			THEN format('unit: no unit "%s"', coalesce(p_unit, ''))
		WHEN coalesce(btrim(p_code), '') = '' OR length(p_code) > 64
			THEN 'procedure_code: 1 to 64 characters'
		WHEN coalesce(btrim(p_name), '') = '' OR length(p_name) > 300
			THEN 'procedure_name: 1 to 300 characters'
		WHEN p_received IS NULL
			THEN 'received_at: a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS][zone]'
		WHEN p_returned IS NULL
			THEN 'returned_at: a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS][zone]'
		WHEN p_returned < p_received
			THEN 'returned_at: before received_at'
		WHEN p_returned > now() + interval '1 day'
			THEN 'returned_at: in the future'
		WHEN p_on_time IS NULL
			THEN 'on_time: true or false (on time or late)'
		WHEN length(p_file) > 64 THEN 'file_id: at most 64 characters'
	END
$$;

-- A service record as the API shows it: no phone number.
CREATE OR REPLACE FUNCTION pakn.service_json(r pakn.service_record) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'unit', pakn.api_unit(r.unit_code),
		'procedure', jsonb_build_object('code', r.procedure_code,
			'name', r.procedure_name),
		'file_id', r.file_id,
		'received_at', pakn.api_time(r.received_at),
		'returned_at', pakn.api_time(r.returned_at),
		'on_time', r.on_time,
		'survey', CASE WHEN NOT r.considered THEN 'pending'
			WHEN r.skip_reason IS NOT NULL THEN 'not surveyed'
			ELSE 'sampled' END)
$$;

-------------------------------------------------------------------------
-- The survey worker
-------------------------------------------------------------------------

-- Sample one new service: a survey due p_delay minutes after the
-- service's return, or the reason it gets none.
CREATE OR REPLACE FUNCTION pakn.survey_consider(r pakn.service_record, p_now timestamptz,
	p_percent numeric, p_min_days integer, p_delay integer,
	p_max_age_days integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_pct numeric := coalesce((SELECT s.percent FROM pakn.survey_unit s
		WHERE s.unit_code = r.unit_code), p_percent);
	v_why text;
BEGIN
	IF r.returned_at < p_now - make_interval(days => p_max_age_days) THEN
		v_why := 'stale';
	ELSIF EXISTS (SELECT 1 FROM pakn.citizen c
			WHERE c.msisdn = r.msisdn AND c.opted_out) THEN
		v_why := 'opted_out';
	ELSIF random() * 100 >= v_pct THEN
		v_why := 'not_sampled';
	ELSIF EXISTS (SELECT 1 FROM pakn.survey s
			WHERE s.msisdn = r.msisdn AND s.state <> 'cancelled'
			  AND coalesce(s.sent_at, s.created_at)
				> p_now - make_interval(days => p_min_days)) THEN
		v_why := 'recent';
	END IF;
	UPDATE pakn.service_record SET considered = true, skip_reason = v_why
	 WHERE id = r.id;
	IF v_why IS NULL THEN
		INSERT INTO pakn.survey (service_id, msisdn, due_at, created_at)
		VALUES (r.id, r.msisdn, r.returned_at
			+ make_interval(mins => p_delay), p_now);
	END IF;
END;
$$;

-- Send one due survey, unless its phone said STOP or got another survey
-- within p_min_days since it was sampled. Returns SMS queued.
CREATE OR REPLACE FUNCTION pakn.survey_send(s pakn.survey, p_gateway text,
	p_now timestamptz, p_min_days integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_why text;
BEGIN
	IF EXISTS (SELECT 1 FROM pakn.citizen c
			WHERE c.msisdn = s.msisdn AND c.opted_out) THEN
		v_why := 'opted_out';
	ELSIF EXISTS (SELECT 1 FROM pakn.survey o
			WHERE o.msisdn = s.msisdn AND o.id <> s.id
			  AND o.sent_at > p_now - make_interval(days => p_min_days)) THEN
		v_why := 'recent';
	END IF;
	IF v_why IS NOT NULL THEN
		UPDATE pakn.survey SET state = 'cancelled', cancel_reason = v_why,
			closed_at = p_now
		 WHERE id = s.id;
		RETURN 0;
	END IF;
	UPDATE pakn.survey SET state = 'sent', sent_at = p_now, asked_at = now(),
		gateway = p_gateway
	 WHERE id = s.id;
	RETURN pakn.reply(p_gateway, s.msisdn, 'survey', pakn.survey_vars(s.id),
		NULL, NULL, false);
END;
$$;

-- Erase the phone numbers of services returned p_keep_days ago whose
-- survey (if any) no longer waits: the figures stay, the person goes.
CREATE OR REPLACE FUNCTION pakn.survey_erase(p_now timestamptz, p_keep_days integer,
	p_limit integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	WITH old AS (
		SELECT r.id FROM pakn.service_record r
		  LEFT JOIN pakn.survey s ON s.service_id = r.id
		 WHERE r.msisdn <> 'erased' AND r.considered
		   AND r.returned_at < p_now - make_interval(days => p_keep_days)
		   AND coalesce(s.state NOT IN ('due', 'sent'), true)
		 LIMIT p_limit FOR UPDATE OF r SKIP LOCKED),
	s AS (UPDATE pakn.survey SET msisdn = 'erased'
		WHERE service_id IN (SELECT id FROM old))
	UPDATE pakn.service_record SET msisdn = 'erased'
	 WHERE id IN (SELECT id FROM old);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- One pass of the survey worker (one instance at a time: advisory
-- lock): sample new services, then, outside the quiet hours, send due
-- surveys and the one reminder; expire surveys unanswered after
-- p_expire_hours. Returns what it did.
CREATE OR REPLACE FUNCTION pakn.survey_run(p_gateway text, p_percent numeric,
	p_min_days integer, p_delay integer, p_remind_hours integer,
	p_expire_hours integer, p_max_age_days integer, p_quiet_start integer,
	p_quiet_end integer, p_limit integer, p_keep_days integer,
	OUT locked boolean, OUT considered integer, OUT sent integer,
	OUT reminded integer, OUT expired integer, OUT sms integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_now timestamptz := pakn.survey_now();
	v_quiet boolean := pakn.survey_quiet(v_now, p_quiet_start, p_quiet_end);
	r pakn.service_record;
	s pakn.survey;
	n integer;
BEGIN
	considered := 0; sent := 0; reminded := 0; expired := 0; sms := 0;
	-- Keyed by name, so workers added in parallel never share a key.
	locked := pg_try_advisory_xact_lock(hashtext('pakn.survey_run'));
	IF NOT locked THEN
		RETURN;
	END IF;
	FOR r IN SELECT * FROM pakn.service_record WHERE NOT considered
		  ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM pakn.survey_consider(r, v_now, p_percent, p_min_days,
			p_delay, p_max_age_days);
		considered := considered + 1;
	END LOOP;
	UPDATE pakn.survey SET state = 'expired', closed_at = v_now
	 WHERE state = 'sent'
	   AND sent_at <= v_now - make_interval(hours => p_expire_hours);
	GET DIAGNOSTICS expired = ROW_COUNT;
	IF NOT v_quiet AND p_gateway IS NOT NULL THEN
		FOR s IN SELECT * FROM pakn.survey WHERE state = 'due'
			  AND due_at <= v_now ORDER BY due_at, id LIMIT p_limit
			  FOR UPDATE SKIP LOCKED LOOP
			n := pakn.survey_send(s, p_gateway, v_now, p_min_days);
			sent := sent + n;
			sms := sms + n;
		END LOOP;
		FOR s IN SELECT * FROM pakn.survey WHERE state = 'sent'
			  AND answered_at IS NULL AND reminded_at IS NULL
			  AND sent_at <= v_now - make_interval(hours => p_remind_hours)
			  ORDER BY sent_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
			UPDATE pakn.survey SET reminded_at = v_now, asked_at = now()
			 WHERE id = s.id;
			n := pakn.reply(coalesce(s.gateway, p_gateway), s.msisdn,
				'survey_reminder', pakn.survey_vars(s.id), NULL, NULL, false);
			reminded := reminded + n;
			sms := sms + n;
		END LOOP;
	END IF;
	PERFORM pakn.survey_erase(v_now, p_keep_days, p_limit);
	INSERT INTO pakn.survey_pass VALUES (1, now(), v_now, v_quiet,
		considered, sent, reminded, expired)
	ON CONFLICT (id) DO UPDATE SET at = excluded.at, clock = excluded.clock,
		quiet = excluded.quiet, considered = excluded.considered,
		sent = excluded.sent, reminded = excluded.reminded,
		expired = excluded.expired;
END;
$$;

-------------------------------------------------------------------------
-- Answers by SMS
-------------------------------------------------------------------------

-- The survey waiting for this phone's answers: sent, not expired.
CREATE OR REPLACE FUNCTION pakn.survey_pending(p_msisdn text) RETURNS pakn.survey
LANGUAGE sql STABLE AS $$
	SELECT * FROM pakn.survey WHERE msisdn = p_msisdn AND state = 'sent'
	 ORDER BY sent_at DESC, id DESC LIMIT 1
$$;

-- Does a bare digit from this phone answer its survey? Yes when a survey
-- waits and its question (or reminder) was asked after the last rating
-- question of the phone's complaints: the most recent question wins.
-- PL/pgSQL, its plan kept for the session: as an SQL function (a
-- subquery, never inlined) it was 41-50 us a call, for every bare digit.
CREATE OR REPLACE FUNCTION pakn.survey_takes(p_msisdn text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s pakn.survey := pakn.survey_pending(p_msisdn);
BEGIN
	RETURN coalesce(s.id IS NOT NULL AND s.asked_at >= coalesce(
		pakn.rating_asked_last(p_msisdn), '-infinity'), false);
END;
$$;

-- A survey answer "asked for money beyond the fee": a report in the
-- corruption category about the unit that served, with the procedure.
CREATE OR REPLACE FUNCTION pakn.survey_report_money(s pakn.survey, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	r pakn.service_record;
	u pakn.unit;
	v_cat text;
	f record;
BEGIN
	SELECT * INTO STRICT r FROM pakn.service_record WHERE id = s.service_id;
	SELECT * INTO STRICT u FROM pakn.unit WHERE code = r.unit_code;
	SELECT code INTO STRICT v_cat FROM pakn.category WHERE sensitive
	 ORDER BY code <> 'corruption', code LIMIT 1;
	f := pakn.complaint_file(s.gateway, s.msisdn, v_cat, format(
		'Khảo sát sau dịch vụ công: người dân trả lời có bị đòi tiền ngoài '
		'phí. Thủ tục: %s (mã %s). Đơn vị giải quyết: %s (%s). Hồ sơ %s, '
		'tiếp nhận %s, trả kết quả %s.', r.procedure_name, r.procedure_code,
		u.name, u.code, coalesce(r.file_id, 'không số'),
		pakn.date_vi(r.received_at), pakn.date_vi(r.returned_at)),
		r.unit_code, 'survey_money', jsonb_build_object('channel', 'survey',
			'service', r.id, 'procedure', r.procedure_code,
			'unit', r.unit_code));
	UPDATE pakn.survey SET complaint_id = f.new_id WHERE id = s.id;
	UPDATE pakn.complaint SET inbound_id = p_inbound WHERE id = f.new_id;
	RETURN f.queued;
END;
$$;

-- A reply read as survey answers when no survey waits: to a survey that
-- ended, say so; otherwise it is a complaint without keyword, as before.
CREATE OR REPLACE FUNCTION pakn.survey_no_pending(p_gateway text, p_msisdn text,
	p_text text, p_unit text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_last bigint;
	v_pending bigint := pakn.pending_location(p_msisdn);
BEGIN
	SELECT id INTO v_last FROM pakn.survey
	 WHERE msisdn = p_msisdn AND state IN ('expired', 'answered')
	   AND closed_at > pakn.survey_now() - interval '30 days'
	 ORDER BY closed_at DESC LIMIT 1;
	IF v_last IS NOT NULL THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'survey_closed',
			pakn.survey_vars(v_last), NULL, p_inbound);
	ELSIF v_pending IS NULL THEN
		RETURN pakn.complaint_new(p_gateway, p_msisdn, p_inbound, p_text,
			p_unit, false);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'ask_location_again',
		jsonb_build_object('ticket', (SELECT ticket FROM pakn.complaint
			WHERE id = v_pending), 'example', pakn.example_commune()),
		v_pending, p_inbound);
END;
$$;

-------------------------------------------------------------------------
-- Statistics per unit x procedure x period
-------------------------------------------------------------------------

-- A percentage with one decimal, NULL without a denominator.
CREATE OR REPLACE FUNCTION pakn.survey_pct(a bigint, b bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN b > 0 THEN round(100.0 * a / b, 1) END
$$;

-- The survey figures of services returned in [p_from, p_to] (local
-- dates) by the units of p_unit's subtree, per unit and procedure, and
-- in total. Aggregates only: no phone, no answer of one person.
CREATE OR REPLACE FUNCTION pakn.survey_stats(p_unit text, p_from date, p_to date)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH base AS (
		SELECT r.unit_code, r.procedure_code, r.procedure_name, r.on_time
			AS recorded, s.sent_at IS NOT NULL AS sent,
			s.answered_at IS NOT NULL AS responded, s.satisfaction,
			s.on_time AS experienced, s.money_asked
		  FROM pakn.service_record r
		  LEFT JOIN pakn.survey s ON s.service_id = r.id
		 WHERE r.unit_code IN (SELECT descendant FROM pakn.unit_closure
			WHERE ancestor = p_unit)
		   AND pakn.local_date(r.returned_at) BETWEEN p_from AND p_to),
	g AS (
		SELECT unit_code, procedure_code, min(procedure_name) AS pname,
			GROUPING(unit_code) AS total,
			count(*) AS services,
			count(*) FILTER (WHERE recorded) AS recorded_on_time,
			count(*) FILTER (WHERE sent) AS surveys_sent,
			count(*) FILTER (WHERE responded) AS responses,
			count(satisfaction) AS ratings,
			round(avg(satisfaction), 2) AS mean_satisfaction,
			count(*) FILTER (WHERE satisfaction >= 4) AS satisfied,
			count(experienced) AS on_time_answers,
			count(*) FILTER (WHERE experienced) AS experienced_on_time,
			count(*) FILTER (WHERE experienced IS NOT NULL AND recorded)
				AS recorded_on_time_answered,
			count(money_asked) AS money_answers,
			count(*) FILTER (WHERE money_asked) AS money_asked
		  FROM base
		 GROUP BY GROUPING SETS ((unit_code, procedure_code), ())),
	j AS (
		SELECT g.total, g.unit_code, g.procedure_code, jsonb_build_object(
			'unit', CASE WHEN g.total = 0 THEN pakn.api_unit(g.unit_code) END,
			'procedure', CASE WHEN g.total = 0 THEN jsonb_build_object(
				'code', g.procedure_code, 'name', g.pname) END,
			'services', g.services,
			'recorded_on_time_rate', pakn.survey_pct(g.recorded_on_time,
				g.services),
			'surveys_sent', g.surveys_sent,
			'responses', g.responses,
			'response_rate', pakn.survey_pct(g.responses, g.surveys_sent),
			'ratings', g.ratings,
			'mean_satisfaction', g.mean_satisfaction,
			'satisfaction_rate', pakn.survey_pct(g.satisfied, g.ratings),
			'on_time_answers', g.on_time_answers,
			'on_time_experienced_rate', pakn.survey_pct(g.experienced_on_time,
				g.on_time_answers),
			'on_time_recorded_rate', pakn.survey_pct(
				g.recorded_on_time_answered, g.on_time_answers),
			'on_time_gap', pakn.survey_pct(g.recorded_on_time_answered,
				g.on_time_answers) - pakn.survey_pct(g.experienced_on_time,
				g.on_time_answers),
			'money_answers', g.money_answers,
			'money_asked', g.money_asked,
			'money_asked_rate', pakn.survey_pct(g.money_asked,
				g.money_answers)) AS o
		  FROM g)
	SELECT jsonb_build_object(
		'total', coalesce((SELECT o FROM j WHERE total = 1),
			jsonb_build_object('services', 0)),
		'rows', coalesce((SELECT jsonb_agg(o ORDER BY unit_code,
			procedure_code) FROM j WHERE total = 0), '[]'))
$$;
