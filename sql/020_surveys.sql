-- 020: SMS surveys after a public service, and Open311 GeoReport v2.
--
-- Surveys. A one-stop shop (Bộ phận Một cửa) reports each finished
-- procedure (POST /v1/services, daemon/service.c; or paknctl
-- import-services): pakn.service_record, with the citizen's phone as
-- personal data. The survey worker (daemon/survey.c, one paknd at a time
-- under an advisory lock) calls pakn.survey_run: it samples new records
-- (a share per unit, at most one survey per phone per N days, never to a
-- phone that sent STOP), sends due surveys by SMS outside the quiet hours
-- (21:00-07:00 Asia/Ho_Chi_Minh by default: a survey due at night waits
-- for the morning), reminds once and expires unanswered ones. Replies are
-- read by the grammar (daemon/grammar.c, kind 'survey': a digit 1-5 and
-- up to two C/K letters) and by pakn.sms_survey; a "yes, asked for money"
-- opens a sensitive report routed like any corruption report.
--
-- Open311: registered clients (pakn.open311_client, only a SHA-256 of
-- each api_key) file complaints; every endpoint is one call of
-- pakn.open311 (daemon/open311.c), answering {status, body, sms}.

-------------------------------------------------------------------------
-- Time. Every survey decision reads pakn.survey_now(): now(), moved by
-- the setting survey_clock_offset (an interval, absent in production) so
-- that tests and drills can play a morning or a night without waiting.
-------------------------------------------------------------------------

-- The survey worker's clock.
CREATE FUNCTION pakn.survey_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT now() + coalesce((SELECT s.value::interval FROM pakn.setting s
		WHERE s.name = 'survey_clock_offset'), interval '0')
$$;

-- Is the local hour of t inside the quiet hours [p_start, p_end)? The
-- window may run over midnight (21 to 7); equal bounds: never quiet.
CREATE FUNCTION pakn.survey_quiet(t timestamptz, p_start integer,
	p_end integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_start = p_end THEN false
		WHEN p_start > p_end THEN h >= p_start OR h < p_end
		ELSE h >= p_start AND h < p_end END
	  FROM (SELECT extract(hour FROM t AT TIME ZONE 'Asia/Ho_Chi_Minh')::integer
		AS h) x
$$;

-------------------------------------------------------------------------
-- Services and surveys
-------------------------------------------------------------------------

-- Finished procedures reported by one-stop shops. msisdn is personal
-- data: no answer of any API shows it, and the survey worker erases it
-- ([survey] keep_phone_days after the return, once no survey waits).
CREATE TABLE pakn.service_record (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	unit_code      text NOT NULL REFERENCES pakn.unit (code),
	procedure_code text NOT NULL CHECK (procedure_code <> ''
				AND length(procedure_code) <= 64),
	procedure_name text NOT NULL CHECK (procedure_name <> ''
				AND length(procedure_name) <= 300),
	msisdn         text NOT NULL,
	file_id        text CHECK (length(file_id) <= 64),
	received_at    timestamptz NOT NULL,
	returned_at    timestamptz NOT NULL CHECK (returned_at >= received_at),
	on_time        boolean NOT NULL,
	source         text NOT NULL CHECK (source IN ('api', 'csv')),
	official_id    bigint REFERENCES pakn.official (id),
	created_at     timestamptz NOT NULL DEFAULT now(),
	considered     boolean NOT NULL DEFAULT false,
	skip_reason    text CHECK (skip_reason IN ('not_sampled', 'opted_out',
				'recent', 'stale'))
);
-- The same file reported twice (the shop's software retries) is one record.
CREATE UNIQUE INDEX service_record_file_idx ON pakn.service_record
	(unit_code, file_id) WHERE file_id IS NOT NULL;
CREATE INDEX service_record_new_idx ON pakn.service_record (id)
	WHERE NOT considered;
CREATE INDEX service_record_unit_idx ON pakn.service_record
	(unit_code, returned_at);
COMMENT ON COLUMN pakn.service_record.msisdn IS
	'personal data: the citizen served, surveyed by SMS; never shown';

-- The share of a unit's services that are surveyed, when it is not the
-- configured one ([survey] sample_percent).
CREATE TABLE pakn.survey_unit (
	unit_code text PRIMARY KEY REFERENCES pakn.unit (code),
	percent   numeric NOT NULL CHECK (percent BETWEEN 0 AND 100)
);

-- One survey per sampled service. Times are the worker's clock
-- (survey_now); asked_at is the real moment of the last question, to
-- tell a reply to it from a reply to a complaint's rating question.
CREATE TABLE pakn.survey (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service_id   bigint NOT NULL UNIQUE REFERENCES pakn.service_record (id),
	msisdn       text NOT NULL,
	gateway      text,
	state        text NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'sent',
				'answered', 'expired', 'cancelled')),
	due_at       timestamptz NOT NULL,
	created_at   timestamptz NOT NULL,
	sent_at      timestamptz,
	reminded_at  timestamptz,
	answered_at  timestamptz,
	completed_at timestamptz,
	closed_at    timestamptz,
	asked_at     timestamptz,
	cancel_reason text,
	satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
	on_time      boolean,
	money_asked  boolean,
	complaint_id bigint REFERENCES pakn.complaint (id)
);
CREATE INDEX survey_due_idx ON pakn.survey (due_at) WHERE state = 'due';
CREATE INDEX survey_sent_idx ON pakn.survey (sent_at) WHERE state = 'sent';
CREATE INDEX survey_msisdn_idx ON pakn.survey (msisdn, created_at);

-- The worker's last pass (one row), for operators and tests.
CREATE TABLE pakn.survey_pass (
	id        integer PRIMARY KEY CHECK (id = 1),
	at        timestamptz NOT NULL,
	clock     timestamptz NOT NULL,
	quiet     boolean NOT NULL,
	considered integer NOT NULL,
	sent      integer NOT NULL,
	reminded  integer NOT NULL,
	expired   integer NOT NULL
);

INSERT INTO pakn.template (code, body, description) VALUES
	('survey', 'Khảo sát {unit}, hồ sơ {procedure}. Nhắn: hài lòng 1-5, đúng hẹn C/K, bị đòi tiền ngoài phí C/K. VD: 5 C K',
		'a survey after a public service (fits one GSM-7 SMS folded)'),
	('survey_reminder', 'Nhắc: khảo sát hồ sơ {procedure}. Nhắn: hài lòng 1-5, đúng hẹn C/K, bị đòi tiền ngoài phí C/K. VD: 4 C K',
		'the one reminder of an unanswered survey'),
	('survey_thanks', 'Cảm ơn bạn đã trả lời khảo sát hồ sơ {procedure}.',
		'a survey fully answered'),
	('survey_partial', 'Đã ghi nhận. Còn thiếu: {missing}. Nhắn tiếp, VD: {example}',
		'a survey partly answered: what is missing'),
	('survey_closed', 'Khảo sát về hồ sơ {procedure} đã kết thúc. Cảm ơn bạn.',
		'a reply to a survey that expired'),
	('survey_money', 'Cảm ơn bạn. Việc bị đòi tiền ngoài phí đã được ghi thành phản ánh {ticket}, chuyển tới {unit}, không chuyển nơi làm hồ sơ. Danh tính bạn được giữ kín. Tra cứu: TT {ticket}',
		'a survey answer "asked for money" opened a sensitive report');

-- Text cut to n characters, with a '.' when cut (SMS room).
CREATE FUNCTION pakn.survey_short(s text, n integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN length(s) <= n THEN s
		ELSE rtrim(left(s, n - 1)) || '.' END
$$;

-- A survey's template variables.
CREATE FUNCTION pakn.survey_vars(p_id bigint) RETURNS jsonb
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
CREATE FUNCTION pakn.survey_time(p text) RETURNS timestamptz
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
CREATE FUNCTION pakn.survey_on_time_of(p text) RETURNS boolean
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
CREATE FUNCTION pakn.service_problem(p_unit text, p_code text, p_name text,
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

-- POST /v1/services: a finished procedure reported by an official of the
-- one-stop shop that served it (an officer: their unit; a leader or an
-- admin: their subtree). p_msisdn is the phone normalised by paknd.
-- 201 with the record; the same file_id of the same unit again: 200
-- with the record first stored.
CREATE FUNCTION pakn.api_service_new(p_token text, p_msisdn text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_unit text := p_args->>'unit';
	v_recv timestamptz := pakn.survey_time(p_args->>'received_at');
	v_ret timestamptz := pakn.survey_time(p_args->>'returned_at');
	v_file text := nullif(btrim(p_args->>'file_id'), '');
	v_why text;
	r pakn.service_record;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	v_why := pakn.service_problem(v_unit, p_args->>'procedure_code',
		p_args->>'procedure_name', v_recv, v_ret,
		(p_args->>'on_time')::boolean, v_file);
	IF v_why IS NOT NULL THEN
		RETURN pakn.api_error(400, 'bad_request', v_why);
	ELSIF NOT pakn.official_may(o, v_unit) THEN
		RETURN pakn.api_error(403, 'forbidden', format(
			'unit %s is not yours (%s)', v_unit, o.unit_code));
	END IF;
	SELECT * INTO r FROM pakn.service_record
	 WHERE unit_code = v_unit AND file_id = v_file;
	IF r.id IS NOT NULL THEN
		RETURN pakn.api_reply(200, pakn.service_json(r)
			|| '{"duplicate": true}');
	END IF;
	INSERT INTO pakn.service_record (unit_code, procedure_code,
		procedure_name, msisdn, file_id, received_at, returned_at, on_time,
		source, official_id)
	VALUES (v_unit, btrim(p_args->>'procedure_code'),
		btrim(p_args->>'procedure_name'), p_msisdn, v_file, v_recv, v_ret,
		(p_args->>'on_time')::boolean, 'api', o.id)
	RETURNING * INTO r;
	RETURN pakn.api_reply(201, pakn.service_json(r));
END;
$$;

-- A service record as the API shows it: no phone number.
CREATE FUNCTION pakn.service_json(r pakn.service_record) RETURNS jsonb
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

-- paknctl import-services FILE: the temporary table import_service
-- (line, phone, procedure_code, procedure_name, unit, received,
-- returned, on_time, file_id) checked whole, then stored; a file_id
-- already stored for its unit is updated, not doubled.
CREATE FUNCTION pakn.import_services(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v_why text;
BEGIN
	FOR r IN SELECT i.*, pakn.survey_time(i.received) AS recv,
			pakn.survey_time(i.returned) AS ret,
			pakn.survey_on_time_of(i.on_time) AS ok
		   FROM pg_temp.import_service i ORDER BY i.line LOOP
		v_why := pakn.service_problem(r.unit, r.procedure_code,
			r.procedure_name, r.recv, r.ret, r.ok, r.file_id);
		IF r.phone IS NULL THEN
			v_why := 'phone: missing';
		ELSIF v_why IS NULL AND r.file_id IS NOT NULL AND EXISTS (
				SELECT 1 FROM pg_temp.import_service d
				 WHERE d.unit = r.unit AND d.file_id = r.file_id
				   AND d.line < r.line) THEN
			v_why := format('file_id %s of unit %s appears twice in the file',
				r.file_id, r.unit);
		END IF;
		IF v_why IS NOT NULL THEN
			RAISE EXCEPTION 'line %: %', r.line,
				replace(replace(v_why, 'received_at', 'received'),
					'returned_at', 'returned');
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE s.id IS NULL),
	       count(*) FILTER (WHERE s.id IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_service i
	  LEFT JOIN pakn.service_record s ON s.unit_code = i.unit
		AND s.file_id = i.file_id;
	UPDATE pakn.service_record s SET procedure_code = btrim(i.procedure_code),
		procedure_name = btrim(i.procedure_name), msisdn = i.phone,
		received_at = pakn.survey_time(i.received),
		returned_at = pakn.survey_time(i.returned),
		on_time = pakn.survey_on_time_of(i.on_time)
	  FROM pg_temp.import_service i
	 WHERE s.unit_code = i.unit AND s.file_id = i.file_id;
	INSERT INTO pakn.service_record (unit_code, procedure_code,
		procedure_name, msisdn, file_id, received_at, returned_at, on_time,
		source)
	SELECT i.unit, btrim(i.procedure_code), btrim(i.procedure_name), i.phone,
		i.file_id, pakn.survey_time(i.received), pakn.survey_time(i.returned),
		pakn.survey_on_time_of(i.on_time), 'csv'
	  FROM pg_temp.import_service i
	 WHERE i.file_id IS NULL OR NOT EXISTS (SELECT 1 FROM pakn.service_record s
		WHERE s.unit_code = i.unit AND s.file_id = i.file_id);
END;
$$;

-------------------------------------------------------------------------
-- The survey worker
-------------------------------------------------------------------------

-- Sample one new service: a survey due p_delay minutes after the
-- service's return, or the reason it gets none.
CREATE FUNCTION pakn.survey_consider(r pakn.service_record, p_now timestamptz,
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
CREATE FUNCTION pakn.survey_send(s pakn.survey, p_gateway text,
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
CREATE FUNCTION pakn.survey_erase(p_now timestamptz, p_keep_days integer,
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
CREATE FUNCTION pakn.survey_run(p_gateway text, p_percent numeric,
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
CREATE FUNCTION pakn.survey_pending(p_msisdn text) RETURNS pakn.survey
LANGUAGE sql STABLE AS $$
	SELECT * FROM pakn.survey WHERE msisdn = p_msisdn AND state = 'sent'
	 ORDER BY sent_at DESC, id DESC LIMIT 1
$$;

-- Does a bare digit from this phone answer its survey? Yes when a survey
-- waits and its question (or reminder) was asked after the last rating
-- question of the phone's complaints: the most recent question wins.
CREATE FUNCTION pakn.survey_takes(p_msisdn text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT s.asked_at >= coalesce((SELECT max(c.rating_asked_at)
			FROM pakn.complaint c
		   WHERE c.msisdn = p_msisdn AND c.status = 'answered'
		     AND c.rating_asked_at IS NOT NULL), '-infinity')
		FROM pakn.survey_pending(p_msisdn) s WHERE s.id IS NOT NULL), false)
$$;

-- File a complaint of a known category at a known location (Open311, a
-- survey's "asked for money"): ledgered, routed (a sensitive category to
-- the inspection unit, never the place itself), acked with p_template.
CREATE FUNCTION pakn.complaint_file(p_gateway text, p_msisdn text,
	p_category text, p_text text, p_location text, p_template text,
	p_detail jsonb, OUT new_id bigint, OUT queued integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
BEGIN
	SELECT * INTO STRICT v_cat FROM pakn.category WHERE code = p_category;
	INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
	ON CONFLICT (msisdn) DO NOTHING;
	INSERT INTO pakn.complaint (ticket, msisdn, gateway, category_code,
		dimension, sensitive, status, text)
	VALUES (pakn.ticket_encode(nextval('pakn.ticket_seq')), p_msisdn,
		p_gateway, v_cat.code, v_cat.dimension, v_cat.sensitive,
		'needs_location', p_text)
	RETURNING complaint.id INTO new_id;
	PERFORM pakn.ledger(new_id, 'citizen', NULL, 'received', NULL,
		jsonb_build_object('category', v_cat.code, 'keyword', true)
		|| p_detail);
	queued := pakn.complaint_route(new_id, p_location, p_template, NULL);
END;
$$;

-- A survey answer "asked for money beyond the fee": a report in the
-- corruption category about the unit that served, with the procedure.
CREATE FUNCTION pakn.survey_report_money(s pakn.survey, p_inbound bigint)
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
CREATE FUNCTION pakn.survey_no_pending(p_gateway text, p_msisdn text,
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

-- Answers to the waiting survey: p_digit (0: none) is the satisfaction;
-- p_letters ("CK", "C", "": as the grammar read them, in order) answer
-- "on time?" then "asked for money?": two letters both, in that order;
-- one letter the first of the two still unanswered. Answers may come in
-- several messages; a later one corrects an earlier one. Returns the
-- SMS queued.
CREATE FUNCTION pakn.sms_survey(p_gateway text, p_msisdn text,
	p_letters text, p_digit integer, p_text text, p_unit text,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	s pakn.survey := pakn.survey_pending(p_msisdn);
	v_l text[] := regexp_split_to_array(upper(coalesce(p_letters, '')), '');
	v_now timestamptz := pakn.survey_now();
	v_money boolean;
BEGIN
	IF s.id IS NULL THEN
		RETURN pakn.survey_no_pending(p_gateway, p_msisdn, p_text, p_unit,
			p_inbound);
	END IF;
	SELECT * INTO s FROM pakn.survey WHERE id = s.id FOR UPDATE;
	v_money := s.money_asked;
	IF coalesce(p_digit, 0) BETWEEN 1 AND 5 THEN
		s.satisfaction := p_digit;
	END IF;
	IF array_length(v_l, 1) = 2 AND p_letters <> '' THEN
		s.on_time := v_l[1] = 'C';
		s.money_asked := v_l[2] = 'C';
	ELSIF p_letters <> '' AND (s.on_time IS NULL OR s.money_asked IS NOT NULL) THEN
		s.on_time := v_l[1] = 'C';
	ELSIF p_letters <> '' THEN
		s.money_asked := v_l[1] = 'C';
	END IF;
	UPDATE pakn.survey SET satisfaction = s.satisfaction, on_time = s.on_time,
		money_asked = s.money_asked,
		answered_at = coalesce(answered_at, v_now),
		state = CASE WHEN s.satisfaction IS NOT NULL AND s.on_time IS NOT NULL
			AND s.money_asked IS NOT NULL THEN 'answered' ELSE 'sent' END,
		completed_at = CASE WHEN s.satisfaction IS NOT NULL
			AND s.on_time IS NOT NULL AND s.money_asked IS NOT NULL
			THEN v_now END,
		closed_at = CASE WHEN s.satisfaction IS NOT NULL
			AND s.on_time IS NOT NULL AND s.money_asked IS NOT NULL
			THEN v_now END
	 WHERE id = s.id RETURNING * INTO s;
	IF s.money_asked AND s.complaint_id IS NULL THEN
		RETURN pakn.survey_report_money(s, p_inbound);
	ELSIF s.state = 'answered' THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'survey_thanks',
			pakn.survey_vars(s.id), NULL, p_inbound);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'survey_partial',
		pakn.survey_vars(s.id), NULL, p_inbound);
END;
$$;

-- pakn.handle_sms (last of 006) with every command added since: the
-- legal clock's THU LY and HEN (016), places by name and the choice by
-- digit (017), START and the officials' and leaders' commands (018), and
-- survey answers (kind 'survey', p_ticket carrying the letters; or a bare
-- digit when the survey's question is the most recent one the phone was
-- asked), tried first. Its one definition since 006: change it here.
CREATE OR REPLACE FUNCTION pakn.handle_sms(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text,
	OUT message_id bigint, OUT duplicate boolean, OUT replies integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_pending bigint;
	v_choice bigint;
BEGIN
	SELECT i.message_id, i.duplicate INTO message_id, duplicate
	  FROM pakn.ingest_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
		p_raw_body) i;
	replies := 0;
	IF duplicate THEN
		RETURN;
	END IF;
	INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
	ON CONFLICT (msisdn) DO NOTHING;
	v_pending := pakn.pending_location(p_msisdn);
	IF p_kind = 'digit' THEN
		v_choice := pakn.place_choice_pending(p_msisdn);
	END IF;
	replies := CASE
	-- Survey answers (020).
	WHEN p_kind = 'survey' OR (p_kind = 'digit'
			AND pakn.survey_takes(p_msisdn)) THEN
		pakn.sms_survey(p_gateway, p_msisdn,
			CASE WHEN p_kind = 'survey' THEN p_ticket END, p_rating, p_text,
			p_unit, message_id)
	WHEN p_kind = 'complaint' AND (p_keyword OR v_pending IS NULL) THEN
		pakn.complaint_new(p_gateway, p_msisdn, message_id, p_text,
			p_unit, p_keyword)
	-- A waiting complaint's location given inside a sentence ("Nhà tôi
	-- ở phường Ba Đình #00004").
	WHEN p_kind = 'complaint' AND EXISTS (SELECT 1 FROM pakn.unit
			WHERE code = p_unit) THEN
		pakn.sms_register(p_gateway, p_msisdn, p_unit, message_id, false)
	-- Or by its name ("phuong Ba Dinh", "Ba Dinh"); else asked again.
	WHEN p_kind = 'complaint' THEN
		pakn.sms_place(p_gateway, p_msisdn, v_pending, p_text, message_id)
	WHEN p_kind = 'code' AND v_pending IS NOT NULL OR p_kind = 'register' THEN
		pakn.sms_register(p_gateway, p_msisdn, p_unit, message_id,
			p_kind = 'register')
	WHEN p_kind = 'status' THEN
		pakn.sms_status(p_gateway, p_msisdn, p_ticket, p_ticket_ok, message_id)
	WHEN p_kind = 'withdraw' THEN
		pakn.sms_withdraw(p_gateway, p_msisdn, p_ticket, p_ticket_ok,
			message_id)
	WHEN p_kind = 'stop' THEN
		pakn.sms_stop(p_gateway, p_msisdn, message_id)
	-- 018: opting back in, and the officials' and leaders' commands.
	WHEN p_kind = 'start' THEN
		pakn.sms_start(p_gateway, p_msisdn, message_id)
	WHEN p_kind IN ('answer', 'transfer') THEN
		pakn.sms_official(p_gateway, p_msisdn, p_kind, p_ticket,
			p_ticket_ok, p_unit, p_text, message_id)
	WHEN p_kind = 'list' THEN
		pakn.sms_list(p_gateway, p_msisdn, p_rating, message_id)
	WHEN p_kind = 'show' THEN
		pakn.sms_show(p_gateway, p_msisdn, p_ticket, p_ticket_ok, message_id)
	WHEN p_kind = 'extend' THEN
		pakn.sms_extend(p_gateway, p_msisdn, p_ticket, p_ticket_ok, p_rating,
			p_text, message_id)
	WHEN p_kind = 'return' THEN
		pakn.sms_return(p_gateway, p_msisdn, p_ticket, p_ticket_ok, p_text,
			message_id)
	WHEN p_kind = 'digit' AND v_choice IS NOT NULL THEN
		pakn.sms_place_choose(v_choice, p_rating, message_id)
	-- 016: acceptance and the apology with a new date.
	WHEN p_kind IN ('accept', 'apologize') THEN
		pakn.sms_clock(p_gateway, p_msisdn, p_kind, p_ticket, p_ticket_ok,
			p_text, message_id)
	WHEN p_kind IN ('rate', 'digit') THEN
		pakn.sms_rate(p_gateway, p_msisdn, p_ticket, p_ticket_ok, p_rating,
			message_id)
	-- pakn.sms_report is defined by 009_stats.sql.
	WHEN p_kind = 'report' THEN
		pakn.sms_report(p_gateway, p_msisdn, message_id)
	WHEN p_kind = 'summary' THEN
		pakn.sms_summary(p_gateway, p_msisdn, p_rating = 1, message_id)
	ELSE
		pakn.reply(p_gateway, p_msisdn, 'help', '{}', NULL, message_id)
	END;
END;
$$;

-------------------------------------------------------------------------
-- Statistics per unit x procedure x period
-------------------------------------------------------------------------

-- A percentage with one decimal, NULL without a denominator.
CREATE FUNCTION pakn.survey_pct(a bigint, b bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN b > 0 THEN round(100.0 * a / b, 1) END
$$;

-- The survey figures of services returned in [p_from, p_to] (local
-- dates) by the units of p_unit's subtree, per unit and procedure, and
-- in total. Aggregates only: no phone, no answer of one person.
CREATE FUNCTION pakn.survey_stats(p_unit text, p_from date, p_to date)
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

-- pakn.stats_doc (009) with the survey figures of the same unit and
-- period in "surveys"; by = 'survey' asks for them as the rows of the
-- CSV (the document is computed by unit).
CREATE FUNCTION pakn.stats_doc_surveys(p_token text, p_unit text,
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

-------------------------------------------------------------------------
-- Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2)
-------------------------------------------------------------------------

-- Applications allowed to POST requests; only a SHA-256 of each key.
CREATE TABLE pakn.open311_client (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name <> ''),
	key_hash   bytea NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);

-- The requests clients filed: the token of each (tokens/{token}.json).
CREATE TABLE pakn.open311_request (
	complaint_id bigint PRIMARY KEY REFERENCES pakn.complaint (id),
	client_id    bigint NOT NULL REFERENCES pakn.open311_client (id),
	token        text NOT NULL UNIQUE,
	created_at   timestamptz NOT NULL DEFAULT now()
);

-- A reporter who gave no phone is "open311:<client>:<token>": no SMS is
-- ever queued to such a citizen.
CREATE FUNCTION pakn.outbox_skip_nophone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.msisdn LIKE 'open311:%' THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER outbox_skip_nophone BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_skip_nophone();

-- An Open311 answer: an HTTP status and a body (an array).
CREATE FUNCTION pakn.open311_reply(p_status integer, p_body jsonb,
	p_sms integer DEFAULT 0)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('status', p_status, 'body', p_body,
		'sms', p_sms)
$$;

-- An error as the spec writes it: [{"code": status, "description": ...}].
CREATE FUNCTION pakn.open311_error(p_status integer, p_description text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.open311_reply(p_status, jsonb_build_array(jsonb_build_object(
		'code', p_status, 'description', p_description)))
$$;

-- A moment in W3C format with the local offset.
CREATE FUNCTION pakn.open311_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'Asia/Ho_Chi_Minh',
		'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')
$$;

-- A category as an Open311 service; its PAPI dimension is the group.
CREATE FUNCTION pakn.open311_service_json(c pakn.category) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('service_code', c.code,
		'service_name', c.name,
		'description', format('%s (PAPI %s: %s)', c.name, d.code, d.name_vi),
		'metadata', false, 'type', 'realtime',
		'keywords', array_to_string(c.keywords[1:12], ','),
		'group', d.name_vi)
	  FROM pakn.papi_dimension d WHERE d.code = c.dimension
$$;

-- A complaint as a public Open311 request: no phone, no pseudonym; a
-- sensitive one without its text, answer or place.
CREATE FUNCTION pakn.open311_request_json(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'service_request_id', c.ticket,
		'status', CASE WHEN c.status IN ('needs_location', 'open')
			THEN 'open' ELSE 'closed' END,
		'status_notes', CASE WHEN NOT c.sensitive THEN coalesce(c.answer_text,
			(SELECT e.reason FROM pakn.complaint_event e
			  WHERE e.complaint_id = c.id AND e.event IN ('rejected',
				'withdrawn') ORDER BY e.id DESC LIMIT 1)) END,
		'service_name', cat.name, 'service_code', cat.code,
		'description', CASE WHEN NOT c.sensitive THEN c.text END,
		'agency_responsible', ru.name,
		'service_notice', NULL,
		'requested_datetime', pakn.open311_time(c.created_at),
		'updated_datetime', pakn.open311_time((SELECT max(e.at)
			FROM pakn.complaint_event e WHERE e.complaint_id = c.id)),
		'expected_datetime', pakn.open311_time(c.due_at),
		'address', CASE WHEN NOT c.sensitive THEN lu.name END,
		'address_id', CASE WHEN NOT c.sensitive THEN lu.code END,
		'zipcode', NULL, 'lat', NULL, 'long', NULL, 'media_url', NULL)
	  FROM pakn.category cat
	  LEFT JOIN pakn.unit ru ON ru.code = c.responsible_unit
	  LEFT JOIN pakn.unit lu ON lu.code = c.location_unit
	 WHERE cat.code = c.category_code
$$;

-- A W3C datetime of a filter, or NULL (p_bad set) when malformed.
CREATE FUNCTION pakn.open311_date(p text, OUT t timestamptz, OUT bad boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	bad := false;
	IF p IS NULL THEN
		RETURN;
	END IF;
	t := pakn.survey_time(p);
	bad := t IS NULL;
END;
$$;

-- GET requests.json: filters service_request_id, service_code (lists),
-- status (open, closed), start_date, end_date (default: the last 90
-- days); at most 1000, newest first.
CREATE FUNCTION pakn.open311_requests(p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_ids text[] := string_to_array(upper(p_args->>'service_request_id'), ',');
	v_codes text[] := string_to_array(p_args->>'service_code', ',');
	v_status text[] := string_to_array(lower(p_args->>'status'), ',');
	a record;
	b record;
	v_body jsonb;
BEGIN
	a := pakn.open311_date(p_args->>'start_date');
	b := pakn.open311_date(p_args->>'end_date');
	IF a.bad OR b.bad THEN
		RETURN pakn.open311_error(400, 'start_date and end_date: W3C '
			'datetimes, e.g. 2026-12-01T00:00:00+07:00');
	ELSIF EXISTS (SELECT 1 FROM unnest(v_status) x
			WHERE x NOT IN ('open', 'closed')) THEN
		RETURN pakn.open311_error(400, 'status: open or closed');
	ELSIF EXISTS (SELECT 1 FROM unnest(v_codes) x WHERE NOT EXISTS (
			SELECT 1 FROM pakn.category c WHERE c.code = x)) THEN
		RETURN pakn.open311_error(400, 'service_code: unknown service');
	END IF;
	SELECT coalesce(jsonb_agg(pakn.open311_request_json(c)
		ORDER BY c.created_at DESC, c.id DESC), '[]') INTO v_body
	  FROM (SELECT * FROM pakn.complaint c
		 WHERE (v_ids IS NULL OR c.ticket = ANY (v_ids))
		   AND (v_codes IS NULL OR c.category_code = ANY (v_codes))
		   AND (v_status IS NULL OR CASE WHEN c.status IN ('needs_location',
			'open') THEN 'open' ELSE 'closed' END = ANY (v_status))
		   AND c.created_at >= coalesce(a.t, coalesce(b.t, now())
			- interval '90 days')
		   AND (b.t IS NULL OR c.created_at <= b.t)
		 ORDER BY c.created_at DESC, c.id DESC LIMIT 1000) c;
	RETURN pakn.open311_reply(200, v_body);
END;
$$;

-- The unit an address names: address_id a unit code; address_string a
-- unit code, or a unit's name (folded, exact, else the only one that
-- contains it).
CREATE FUNCTION pakn.open311_place(p_id text, p_string text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT u.code FROM pakn.unit u WHERE u.code = btrim(p_id)),
		(SELECT u.code FROM pakn.unit u WHERE u.code = btrim(p_string)),
		(SELECT min(u.code) FROM pakn.unit u
		  WHERE pakn.fold(u.name) = btrim(pakn.fold(p_string))
		 HAVING count(*) = 1),
		(SELECT min(u.code) FROM pakn.unit u
		  WHERE length(btrim(p_string)) >= 3
		    AND strpos(pakn.fold(u.name), btrim(pakn.fold(p_string))) > 0
		 HAVING count(*) = 1))
$$;

-- POST requests.json by a registered client: a complaint in the
-- service's category at the addressed unit, acked by SMS to the
-- reporter's phone when one is given (p_msisdn, normalised by paknd).
CREATE FUNCTION pakn.open311_post(p_key text, p_gateway text,
	p_msisdn text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	cl pakn.open311_client;
	v_code text := p_args->>'service_code';
	v_text text := btrim(coalesce(p_args->>'description', ''));
	v_place text := pakn.open311_place(p_args->>'address_id',
		p_args->>'address_string');
	v_token text := replace(gen_random_uuid()::text, '-', '');
	v_msisdn text := p_msisdn;
	f record;
	c pakn.complaint;
BEGIN
	SELECT * INTO cl FROM pakn.open311_client
	 WHERE key_hash = sha256(convert_to(coalesce(p_key, ''), 'UTF8'))
	   AND revoked_at IS NULL;
	IF cl.id IS NULL THEN
		RETURN pakn.open311_error(403, 'Invalid api_key received -- '
			'can''t proceed with create_request.');
	ELSIF v_code IS NULL OR NOT EXISTS (SELECT 1 FROM pakn.category
			WHERE code = v_code) THEN
		RETURN pakn.open311_error(400, format('service_code "%s" not found',
			coalesce(v_code, '')));
	ELSIF v_text = '' OR length(v_text) > 4000 THEN
		RETURN pakn.open311_error(400, 'description: 1 to 4000 characters');
	ELSIF v_place IS NULL AND coalesce(p_args->>'address_id',
			p_args->>'address_string') IS NULL THEN
		RETURN pakn.open311_error(400, 'a location is required: '
			'address_string (a commune''s name or code) or address_id (a unit '
			'code); lat and long alone are not supported');
	ELSIF v_place IS NULL THEN
		RETURN pakn.open311_error(400, format('no single unit named "%s": '
			'give a commune code as address_id', coalesce(
			p_args->>'address_id', p_args->>'address_string')));
	END IF;
	IF v_msisdn IS NULL THEN
		v_msisdn := format('open311:%s:%s', cl.id, v_token);
	END IF;
	f := pakn.complaint_file(p_gateway, v_msisdn, v_code, v_text, v_place,
		'ack', jsonb_build_object('channel', 'open311', 'client', cl.name));
	INSERT INTO pakn.open311_request (complaint_id, client_id, token)
	VALUES (f.new_id, cl.id, v_token);
	SELECT * INTO c FROM pakn.complaint WHERE id = f.new_id;
	RETURN pakn.open311_reply(200, jsonb_build_array(jsonb_build_object(
		'service_request_id', c.ticket, 'token', v_token,
		'service_notice', format('Đơn vị xử lý: %s. Hạn trả lời: %s.',
			(SELECT name FROM pakn.unit WHERE code = c.responsible_unit),
			pakn.due_vi(c.due_at)),
		'account_id', NULL)), f.queued);
END;
$$;

-- Every Open311 endpoint: p_op is services, service, requests, request,
-- post or token; p_args the path's code, id or token and the parameters.
CREATE FUNCTION pakn.open311(p_op text, p_key text, p_gateway text,
	p_msisdn text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
	v jsonb;
BEGIN
	CASE p_op
	WHEN 'services' THEN
		RETURN pakn.open311_reply(200, (SELECT coalesce(jsonb_agg(
			pakn.open311_service_json(c) ORDER BY c.dimension, c.code), '[]')
			FROM pakn.category c));
	WHEN 'service' THEN
		SELECT * INTO v_cat FROM pakn.category WHERE code = p_args->>'code';
		IF v_cat.code IS NULL THEN
			RETURN pakn.open311_error(404, format('service_code "%s" not found',
				p_args->>'code'));
		END IF;
		RETURN pakn.open311_reply(200, jsonb_build_object('service_code',
			v_cat.code, 'attributes', '[]'::jsonb));
	WHEN 'requests' THEN
		RETURN pakn.open311_requests(p_args);
	WHEN 'request' THEN
		SELECT jsonb_build_array(pakn.open311_request_json(x)) INTO v
		  FROM pakn.complaint x WHERE x.ticket = upper(p_args->>'id');
		IF v IS NULL THEN
			RETURN pakn.open311_error(404, format(
				'service_request_id "%s" not found', p_args->>'id'));
		END IF;
		RETURN pakn.open311_reply(200, v);
	WHEN 'token' THEN
		SELECT jsonb_build_array(jsonb_build_object('service_request_id',
			x.ticket, 'token', r.token)) INTO v
		  FROM pakn.open311_request r JOIN pakn.complaint x
			ON x.id = r.complaint_id
		 WHERE r.token = p_args->>'token';
		IF v IS NULL THEN
			RETURN pakn.open311_error(404, format('token "%s" not found',
				p_args->>'token'));
		END IF;
		RETURN pakn.open311_reply(200, v);
	WHEN 'post' THEN
		RETURN pakn.open311_post(p_key, p_gateway, p_msisdn, p_args);
	ELSE
		RETURN pakn.open311_error(404, 'no such endpoint');
	END CASE;
END;
$$;
