-- functions/sms.sql: the SMS commands: pakn.handle_sms dispatches each
-- command (PA, TT, DG, ...) to its sms_* function; replies are rendered
-- from pakn.template.
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Render a template with {name} placeholders from a JSON object.
CREATE OR REPLACE FUNCTION pakn.render(p_code text, p_vars jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r text;
	k text;
	v text;
BEGIN
	SELECT t.body INTO STRICT r FROM pakn.template t WHERE t.code = p_code;
	FOR k, v IN SELECT * FROM jsonb_each_text(p_vars) LOOP
		r := replace(r, '{' || k || '}', coalesce(v, ''));
	END LOOP;
	RETURN r;
END;
$$;

-- Queue one SMS from a template. Non-essential messages are not sent to
-- citizens who opted out. Returns 1 if queued, else 0.
CREATE OR REPLACE FUNCTION pakn.reply(p_gateway text, p_msisdn text, p_template text,
	p_vars jsonb, p_complaint bigint, p_inbound bigint,
	p_essential boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT p_essential AND EXISTS (SELECT 1 FROM pakn.citizen c
		WHERE c.msisdn = p_msisdn AND c.opted_out) THEN
		RETURN 0;
	END IF;
	INSERT INTO pakn.outbox (gateway, msisdn, body, kind, complaint_id,
		inbound_id)
	VALUES (p_gateway, p_msisdn, pakn.render(p_template, p_vars),
		p_template, p_complaint, p_inbound);
	RETURN 1;
END;
$$;

-- Vietnamese name of a status, for replies.
CREATE OR REPLACE FUNCTION pakn.status_vi(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE s
		WHEN 'needs_location' THEN 'đang chờ mã xã/phường'
		WHEN 'open' THEN 'đang được xử lý'
		WHEN 'answered' THEN 'đã được trả lời'
		WHEN 'withdrawn' THEN 'đã được rút'
		WHEN 'closed' THEN 'đã đóng'
		ELSE s END
$$;

-- A date as citizens write it.
CREATE OR REPLACE FUNCTION pakn.date_vi(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY')
$$;

-- The due date shown to people: the last day, not the midnight after it.
CREATE OR REPLACE FUNCTION pakn.due_vi(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pakn.date_vi(t - interval '1 second')
$$;

-- An example commune code for replies (the smallest one), or 00004.
CREATE OR REPLACE FUNCTION pakn.example_commune() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT min(code) FROM pakn.unit WHERE kind = 'commune'),
		'00004')
$$;

-- The citizen's complaint waiting for a location, if any.
CREATE OR REPLACE FUNCTION pakn.pending_location(p_msisdn text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT id FROM pakn.complaint
		 WHERE msisdn = p_msisdn AND status = 'needs_location'
		 ORDER BY id DESC LIMIT 1);
END;
$$;

-- A complaint of this citizen by ticket (nothing for another's ticket).
CREATE OR REPLACE FUNCTION pakn.own_complaint(p_msisdn text, p_ticket text)
RETURNS pakn.complaint
LANGUAGE sql STABLE AS $$
	SELECT * FROM pakn.complaint WHERE ticket = p_ticket AND msisdn = p_msisdn
$$;

-- A reply about a ticket that is missing, mistyped or not the sender's;
-- NULL when the ticket is fine.
CREATE OR REPLACE FUNCTION pakn.ticket_problem(p_gateway text, p_msisdn text,
	p_keyword text, p_ticket text, p_ticket_ok boolean, p_inbound bigint,
	OUT c pakn.complaint, OUT replies integer)
LANGUAGE plpgsql AS $$
BEGIN
	replies := NULL;
	IF p_ticket IS NULL OR p_ticket = '' THEN
		replies := pakn.reply(p_gateway, p_msisdn, 'need_ticket',
			jsonb_build_object('keyword', p_keyword), NULL, p_inbound);
	ELSIF NOT p_ticket_ok THEN
		replies := pakn.reply(p_gateway, p_msisdn, 'bad_ticket',
			jsonb_build_object('ticket', p_ticket), NULL, p_inbound);
	ELSE
		c := pakn.own_complaint(p_msisdn, p_ticket);
		IF c.id IS NULL THEN
			replies := pakn.reply(p_gateway, p_msisdn, 'not_found',
				jsonb_build_object('ticket', p_ticket), NULL, p_inbound);
		END IF;
	END IF;
END;
$$;

-- DK <code>, or a bare code: register the home commune and complete a
-- complaint waiting for its location.
CREATE OR REPLACE FUNCTION pakn.sms_register(p_gateway text, p_msisdn text, p_unit text,
	p_inbound bigint, p_explicit boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	u pakn.unit;
	v_pending bigint := pakn.pending_location(p_msisdn);
BEGIN
	IF p_unit IS NULL OR p_unit = '' THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'need_unit',
			jsonb_build_object('example', pakn.example_commune()),
			NULL, p_inbound);
	END IF;
	SELECT * INTO u FROM pakn.unit WHERE code = p_unit;
	IF u.code IS NULL THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'unknown_unit',
			jsonb_build_object('code', p_unit,
				'example', pakn.example_commune()), NULL, p_inbound);
	END IF;
	UPDATE pakn.citizen SET home_unit = u.code, updated_at = now()
	 WHERE msisdn = p_msisdn;
	IF v_pending IS NOT NULL THEN
		PERFORM pakn.ledger(v_pending, 'citizen', NULL, 'located', NULL,
			jsonb_build_object('unit', u.code));
		RETURN pakn.complaint_route(v_pending, u.code, 'ack', p_inbound);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'registered',
		jsonb_build_object('unit', u.name), NULL, p_inbound);
END;
$$;

-- An official's SMS command is refused, with the reason.
CREATE OR REPLACE FUNCTION pakn.official_refuse(p_gateway text, p_msisdn text,
	p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE sql AS $$
	SELECT pakn.reply(p_gateway, p_msisdn, 'official_refused',
		jsonb_build_object('reason', p_reason), NULL, p_inbound)
$$;

-- TU CHOI / STOP: no more non-essential messages.
CREATE OR REPLACE FUNCTION pakn.sms_stop(p_gateway text, p_msisdn text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.citizen SET opted_out = true, updated_at = now()
	 WHERE msisdn = p_msisdn;
	RETURN pakn.reply(p_gateway, p_msisdn, 'stopped', '{}', NULL, p_inbound);
END;
$$;

-- The complaint's variables plus extra ones, for templates.
CREATE OR REPLACE FUNCTION pakn.vars(p_id bigint, p_extra jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT pakn.complaint_vars(p_id) || p_extra
$$;

-- The complaint a bare digit from this phone rates: its complaint
-- answered last whose rating was asked. Found among the phone's
-- complaints (complaint_msisdn_idx), never by reading the answered ones
-- newest first for the phone's: a plan made while statistics counted
-- few answered complaints did that, every answered complaint read for
-- each digit once officials had answered many (check_abuse
-- test_rating_by_phone).
CREATE OR REPLACE FUNCTION pakn.rating_pending(p_msisdn text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT x.id
	  FROM (SELECT d.id, d.status, d.rating_asked_at, d.answered_at
		  FROM pakn.complaint d WHERE d.msisdn = p_msisdn OFFSET 0) x
	 WHERE x.status = 'answered' AND x.rating_asked_at IS NOT NULL
	 ORDER BY x.answered_at DESC LIMIT 1
$$;

-- When this phone was last asked to rate an answer still waiting for
-- its rating (NULL: never), among the phone's complaints as
-- pakn.rating_pending: what a survey's or a list's question must be
-- newer than to take a bare digit (pakn.survey_takes,
-- pakn.place_choice_pending).
CREATE OR REPLACE FUNCTION pakn.rating_asked_last(p_msisdn text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT max(x.rating_asked_at)
	  FROM (SELECT d.status, d.rating_asked_at
		  FROM pakn.complaint d WHERE d.msisdn = p_msisdn OFFSET 0) x
	 WHERE x.status = 'answered'
$$;

-- DG <ticket> <1-5>, or a bare digit answering the rating question.
CREATE OR REPLACE FUNCTION pakn.sms_rate(p_gateway text, p_msisdn text, p_ticket text,
	p_ticket_ok boolean, p_rating integer, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
	v_id bigint;
BEGIN
	IF p_ticket IS NULL OR p_ticket = '' THEN
		v_id := pakn.rating_pending(p_msisdn);
		IF v_id IS NULL OR p_rating NOT BETWEEN 1 AND 5 THEN
			RETURN pakn.reply(p_gateway, p_msisdn, 'no_rating_pending',
				'{}', NULL, p_inbound);
		END IF;
		RETURN pakn.complaint_rate(v_id, p_rating, p_inbound);
	END IF;
	p := pakn.ticket_problem(p_gateway, p_msisdn, 'DG', p_ticket,
		p_ticket_ok, p_inbound);
	IF p.replies IS NOT NULL THEN
		RETURN p.replies;
	ELSIF p_rating NOT BETWEEN 1 AND 5 THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'no_rating_pending', '{}',
			(p.c).id, p_inbound);
	END IF;
	RETURN pakn.complaint_rate((p.c).id, p_rating, p_inbound);
END;
$$;

-- CT <ticket> <unit> <reason> from an official's phone (as in 006), the
-- transfer held for acceptance when the unit is outside the sender's
-- province.
CREATE OR REPLACE FUNCTION pakn.sms_official(p_gateway text, p_msisdn text,
	p_kind text, p_ticket text, p_ticket_ok boolean, p_unit text,
	p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.official_by_phone(p_msisdn);
	v_phone_unit text := pakn.official_unit(p_msisdn);
	c pakn.complaint;
	n integer;
	v_target text;
	t record;
BEGIN
	IF o.id IS NULL AND v_phone_unit IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'số điện thoại này chưa đăng ký là của cán bộ.', p_inbound);
	ELSIF NOT coalesce(p_ticket_ok, false) THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('mã phản ánh "%s" không đúng.', p_ticket), p_inbound);
	END IF;
	SELECT * INTO c FROM pakn.complaint WHERE ticket = p_ticket FOR UPDATE;
	IF c.id IS NULL OR NOT (coalesce(pakn.official_may(o, c.responsible_unit),
				false)
			OR coalesce(c.responsible_unit = v_phone_unit, false)) THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s không thuộc đơn vị của bạn.', p_ticket),
			p_inbound);
	ELSIF c.status <> 'open' THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s %s.', p_ticket, pakn.status_vi(c.status)),
			p_inbound);
	ELSIF p_text IS NULL OR p_text = '' THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'thiếu nội dung.', p_inbound);
	END IF;
	IF p_kind = 'answer' THEN
		n := pakn.complaint_answer(c.id, coalesce(o.id::text, p_msisdn),
			p_text, p_inbound);
		RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_done',
			pakn.complaint_vars(c.id), c.id, p_inbound);
	END IF;
	-- The grammar folds the code to lower case; codes may have letters.
	SELECT code INTO v_target FROM pakn.unit
	 WHERE lower(code) = lower(p_unit) ORDER BY code = p_unit DESC LIMIT 1;
	IF v_target IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('không có đơn vị mã "%s".', coalesce(p_unit, '')),
			p_inbound);
	ELSIF v_target = c.responsible_unit THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s đã thuộc đơn vị %s.', p_ticket, v_target),
			p_inbound);
	ELSIF NOT pakn.transfer_in_scope(coalesce(o.unit_code, v_phone_unit),
			v_target) THEN
		SELECT * INTO t FROM pakn.transfer_request_new(c.id,
			coalesce(o.id::text, p_msisdn), p_msisdn, v_target, p_text);
		IF (t.request).id IS NULL THEN
			RETURN pakn.official_refuse(p_gateway, p_msisdn,
				format('phản ánh %s đang chờ đơn vị khác nhận.', p_ticket),
				p_inbound);
		END IF;
		RETURN t.sms + pakn.reply(p_gateway, p_msisdn, 'transfer_pending',
			pakn.transfer_vars(t.request), c.id, p_inbound);
	END IF;
	n := pakn.complaint_transfer(c.id, 'official',
		coalesce(o.id::text, p_msisdn), v_target, p_text);
	RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_transferred',
		pakn.complaint_vars(c.id), c.id, p_inbound);
END;
$$;

-- TT <ticket>: the status of one's own complaint; for one that waits for
-- its commune, the question again.
CREATE OR REPLACE FUNCTION pakn.sms_status(p_gateway text, p_msisdn text,
	p_ticket text, p_ticket_ok boolean, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
BEGIN
	p := pakn.ticket_problem(p_gateway, p_msisdn, 'TT', p_ticket,
		p_ticket_ok, p_inbound);
	IF p.replies IS NOT NULL THEN
		RETURN p.replies;
	ELSIF (p.c).status = 'needs_location' THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'ask_location_again',
			jsonb_build_object('ticket', (p.c).ticket,
				'example', pakn.example_commune()), (p.c).id, p_inbound);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn,
		CASE WHEN (p.c).status IN ('answered', 'closed')
			AND (p.c).answer_text IS NOT NULL
		     THEN 'status_answered' ELSE 'status' END,
		pakn.complaint_vars((p.c).id), (p.c).id, p_inbound);
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
	-- (The citizen's row is there: pakn.ingest_sms made it.)
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

-- HUY <ticket>: withdraw one's own complaint while it is not answered.
CREATE OR REPLACE FUNCTION pakn.sms_withdraw(p_gateway text, p_msisdn text,
	p_ticket text, p_ticket_ok boolean, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
BEGIN
	p := pakn.ticket_problem(p_gateway, p_msisdn, 'HUY', p_ticket,
		p_ticket_ok, p_inbound);
	IF p.replies IS NOT NULL THEN
		RETURN p.replies;
	END IF;
	IF (p.c).status NOT IN ('needs_location', 'open') THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'cannot_withdraw',
			pakn.complaint_vars((p.c).id), (p.c).id, p_inbound);
	END IF;
	UPDATE pakn.complaint SET status = 'withdrawn', close_reason = 'withdrawn',
		closed_at = now()
	 WHERE id = (p.c).id;
	PERFORM pakn.ledger((p.c).id, 'citizen', NULL, 'withdrawn');
	RETURN pakn.reply(p_gateway, p_msisdn, 'withdrawn',
		pakn.complaint_vars((p.c).id), (p.c).id, p_inbound);
END;
$$;

-- Queue the BC reply to a leader's phone. Returns the number queued.
CREATE OR REPLACE FUNCTION pakn.sms_report(p_gateway text, p_msisdn text,
	p_inbound bigint, p_on_time numeric DEFAULT 99,
	p_satisfaction numeric DEFAULT 85)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.official_by_phone(p_msisdn);
	v_today date := pakn.local_date(now());
	pr pakn.stat_range;
	t jsonb;
BEGIN
	IF o.id IS NULL OR o.role NOT IN ('leader', 'admin') THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'report_refused', '{}',
			NULL, p_inbound);
	END IF;
	pr := pakn.stat_period(to_char(date_trunc('month', v_today), 'YYYY-MM-DD')
		|| '..' || to_char(v_today, 'YYYY-MM-DD'), 0);
	t := pakn.stats_total(o.unit_code, NULL, pr, NULL, p_on_time,
		p_satisfaction, false);
	RETURN pakn.reply(p_gateway, p_msisdn, 'report', jsonb_build_object(
		'unit', o.unit_code, 'month', to_char(v_today, 'MM/YYYY'),
		'received', t->'received', 'answered', t->'answered',
		'on_time', pakn.stat_pct_vi(t->'on_time_rate'),
		'satisfaction', pakn.stat_pct_vi(t->'satisfaction_rate'),
		'overdue', t->'open_overdue', 't_on_time', p_on_time,
		't_satisfaction', p_satisfaction), NULL, p_inbound);
END;
$$;

-------------------------------------------------------------------------
-- Officials' SMS: THU LY <ticket> accepts today; HEN <ticket> <dd/mm[/yyyy]>
-- <reason> apologises with a new date (daemon/grammar.c).
-------------------------------------------------------------------------

-- The date at the start of an SMS text ("25/9", "25/09/2026", "25-9-26")
-- and the words after it. Without a year: the next such day from today.
CREATE OR REPLACE FUNCTION pakn.sms_date(p_text text, OUT d date, OUT rest text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	m text[] := regexp_match(coalesce(p_text, ''),
		'^\s*(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?(?!\d)[\s,.:;-]*(.*)$', 's');
	v_today date := pakn.local_date(now());
	y integer;
BEGIN
	IF m IS NULL THEN
		rest := p_text;
		RETURN;
	END IF;
	rest := btrim(m[4]);
	y := coalesce(m[3]::integer, extract(year FROM v_today)::integer);
	IF y < 100 THEN
		y := y + 2000;
	END IF;
	BEGIN
		d := make_date(y, m[2]::integer, m[1]::integer);
	EXCEPTION WHEN OTHERS THEN
		d := NULL;
		RETURN;
	END;
	IF m[3] IS NULL AND d < v_today THEN
		d := (d + interval '1 year')::date;
	END IF;
END;
$$;

-- THU LY / HEN from an official's registered phone (or a unit phone),
-- checked as the API checks them; refusals say why in Vietnamese.
CREATE OR REPLACE FUNCTION pakn.sms_clock(p_gateway text, p_msisdn text, p_kind text,
	p_ticket text, p_ticket_ok boolean, p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.official_by_phone(p_msisdn);
	v_phone_unit text := pakn.official_unit(p_msisdn);
	c pakn.complaint;
	v_date record;
	v_check record;
	n integer;
BEGIN
	IF o.id IS NULL AND v_phone_unit IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'số điện thoại này chưa đăng ký là của cán bộ.', p_inbound);
	ELSIF NOT coalesce(p_ticket_ok, false) THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('mã phản ánh "%s" không đúng.', p_ticket), p_inbound);
	END IF;
	SELECT * INTO c FROM pakn.complaint WHERE ticket = p_ticket FOR UPDATE;
	IF c.id IS NULL OR NOT (coalesce(pakn.official_may(o, c.responsible_unit),
				false)
			OR coalesce(c.responsible_unit = v_phone_unit, false)) THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s không thuộc đơn vị của bạn.', p_ticket),
			p_inbound);
	END IF;
	v_date := pakn.sms_date(CASE WHEN p_kind = 'apologize' THEN p_text END);
	IF p_kind = 'apologize' AND v_date.d IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'ngày hẹn không đúng. Gửi: HEN <mã> <ngày/tháng> <lý do>.',
			p_inbound);
	END IF;
	v_check := pakn.clock_check(c, p_kind, v_date.d,
		CASE WHEN p_kind = 'apologize' THEN left(v_date.rest, 200) END);
	IF v_check.status IS NOT NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn, v_check.vi,
			p_inbound);
	END IF;
	n := pakn.clock_do(c, coalesce(o.id::text, p_msisdn), p_kind, v_date.d,
		CASE WHEN p_kind = 'apologize' THEN left(v_date.rest, 200) END,
		p_inbound);
	RETURN n + pakn.reply(p_gateway, p_msisdn, CASE p_kind
		WHEN 'accept' THEN 'official_accepted' ELSE 'official_apologized' END,
		pakn.complaint_vars(c.id), c.id, p_inbound);
END;
$$;

-- A message without keyword while a complaint waits for its place: the
-- commune it names (a short reply may be only the name), one or a choice;
-- else the question again. Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.sms_place(p_gateway text, p_msisdn text,
	p_pending bigint, p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_codes text[] := pakn.place_match(p_text, true, p_msisdn);
BEGIN
	IF cardinality(v_codes) = 1 THEN
		RETURN pakn.place_found(p_pending, v_codes[1], 'name', 'ack',
			p_inbound);
	ELSIF cardinality(v_codes) > 1 THEN
		RETURN pakn.place_ask(p_pending, v_codes, p_inbound);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'ask_location_again',
		jsonb_build_object('ticket', (SELECT ticket FROM pakn.complaint
			WHERE id = p_pending), 'example', pakn.example_commune()),
		p_pending, p_inbound);
END;
$$;

-- A digit answering the place question of complaint p_id: the commune
-- listed under it; a digit past the list asks again. Returns the SMS
-- queued.
CREATE OR REPLACE FUNCTION pakn.sms_place_choose(p_id bigint, p_digit integer,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	pc pakn.place_choice;
BEGIN
	SELECT * INTO STRICT pc FROM pakn.place_choice WHERE complaint_id = p_id
	   FOR UPDATE;
	IF p_digit NOT BETWEEN 1 AND cardinality(pc.candidates) THEN
		RETURN pakn.place_ask(p_id, pc.candidates, p_inbound);
	END IF;
	UPDATE pakn.place_choice SET chosen = pc.candidates[p_digit],
		chosen_at = now()
	 WHERE complaint_id = p_id;
	RETURN pakn.place_found(p_id, pc.candidates[p_digit], 'choice', 'ack',
		p_inbound);
END;
$$;

-- START / DANG KY LAI: messages again after TU CHOI.
CREATE OR REPLACE FUNCTION pakn.sms_start(p_gateway text, p_msisdn text,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.citizen SET opted_out = false, updated_at = now()
	 WHERE msisdn = p_msisdn;
	RETURN pakn.reply(p_gateway, p_msisdn, 'restarted', '{}', NULL,
		p_inbound);
END;
$$;

-- The complaint an official's SMS command is about, or the refusal
-- queued: not an official's phone, a missing or mistyped ticket, or a
-- complaint that does not exist or is not the official's to act on (the
-- same words: nothing is revealed). p_open: it must be open.
CREATE OR REPLACE FUNCTION pakn.official_ticket(p_gateway text, p_msisdn text,
	p_ticket text, p_ticket_ok boolean, p_open boolean, p_inbound bigint,
	OUT c pakn.complaint, OUT replies integer)
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.official_by_phone(p_msisdn);
	v_phone_unit text := pakn.official_unit(p_msisdn);
	v_reason text;
BEGIN
	IF o.id IS NULL AND v_phone_unit IS NULL THEN
		v_reason := 'số điện thoại này chưa đăng ký là của cán bộ.';
	ELSIF coalesce(p_ticket, '') = '' THEN
		v_reason := 'thiếu mã phản ánh.';
	ELSIF NOT coalesce(p_ticket_ok, false) THEN
		v_reason := format('mã phản ánh "%s" không đúng.', p_ticket);
	ELSE
		SELECT * INTO c FROM pakn.complaint x WHERE x.ticket = p_ticket
		   FOR UPDATE;
		IF c.id IS NULL OR NOT (coalesce(pakn.official_may(o,
				c.responsible_unit), false)
				OR coalesce(c.responsible_unit = v_phone_unit, false)) THEN
			v_reason := format('phản ánh %s không thuộc đơn vị của bạn.',
				p_ticket);
		ELSIF p_open AND c.status <> 'open' THEN
			v_reason := format('phản ánh %s %s.', p_ticket,
				pakn.status_vi(c.status));
		END IF;
	END IF;
	IF v_reason IS NOT NULL THEN
		c := NULL;
		replies := pakn.official_refuse(p_gateway, p_msisdn, v_reason,
			p_inbound);
	END IF;
END;
$$;

-- The units whose open complaints DS lists for a phone: an officer's
-- unit, a leader's or admin's subtree, a unit phone's unit.
CREATE OR REPLACE FUNCTION pakn.official_queue_units(p_msisdn text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	SELECT o.unit_code FROM pakn.official o
	 WHERE o.phone = p_msisdn AND o.active AND o.role = 'officer'
	UNION
	SELECT d FROM pakn.official o, pakn.unit_descendants(o.unit_code) d
	 WHERE o.phone = p_msisdn AND o.active AND o.role <> 'officer'
	UNION
	SELECT pakn.official_unit(p_msisdn)
	 WHERE pakn.official_by_phone(p_msisdn) IS NULL
	   AND pakn.official_unit(p_msisdn) IS NOT NULL
$$;

-- DS [page]: the official's open complaints, overdue first then by due
-- date, 8 to an SMS ("K7M4Q9X 05/12 QH"; QH: overdue), with the next
-- page's command. 8 items and the words fit two GSM-7 parts.
--
-- The complaints are read unit by unit (complaint_unit_idx, the unit and
-- the status), whatever the statistics said of the open ones when the
-- plan was made: with "status = 'open'" written out, a plan made while
-- they counted few open complaints (a table analyzed before a backlog
-- came, or after officials answered one) read complaint_due_idx, every
-- open complaint of every unit, for each DS (40 000 entries, 26 ms a
-- call, with 4 000 of them the unit's); joined with the units, a plan
-- hashed every open complaint. The status is a parameter of a generic
-- plan (v_open_state), which that partial index cannot serve:
-- check_abuse's test_official_list_by_unit.
CREATE OR REPLACE FUNCTION pakn.sms_list(p_gateway text, p_msisdn text, p_page integer,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	k constant integer := 8;
	v_open_state constant text := 'open';
	v_units text[];
	v_unit text := coalesce((pakn.official_by_phone(p_msisdn)).unit_code,
		pakn.official_unit(p_msisdn));
	v_page integer := greatest(coalesce(nullif(p_page, 0), 1), 1);
	v_open integer;
	v_overdue integer;
	v_pages integer;
	v_items text;
BEGIN
	IF v_unit IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'số điện thoại này chưa đăng ký là của cán bộ.', p_inbound);
	END IF;
	v_units := ARRAY(SELECT pakn.official_queue_units(p_msisdn));
	SELECT coalesce(sum(x.n), 0), coalesce(sum(x.o), 0)
	  INTO v_open, v_overdue
	  FROM unnest(v_units) u(code)
	 CROSS JOIN LATERAL (SELECT count(*) AS n,
			count(*) FILTER (WHERE c.due_at <= now()) AS o
		  FROM pakn.complaint c
		 WHERE c.responsible_unit = u.code AND c.status = v_open_state) x;
	IF v_open = 0 THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'official_list_empty',
			jsonb_build_object('unit', v_unit), NULL, p_inbound);
	END IF;
	v_pages := (v_open + k - 1) / k;
	IF v_page > v_pages THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn, format(
			'không có trang %s, danh sách có %s trang.', v_page, v_pages),
			p_inbound);
	END IF;
	SELECT string_agg(x.ticket || ' ' || to_char((x.due_at
			- interval '1 second') AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM')
		|| CASE WHEN x.due_at <= now() THEN ' QH' ELSE '' END, ', '
		ORDER BY x.due_at <= now() DESC, x.due_at, x.id)
	  INTO v_items
	  FROM (SELECT y.* FROM unnest(v_units) u(code)
		 CROSS JOIN LATERAL (SELECT c.id, c.ticket, c.due_at
			  FROM pakn.complaint c
			 WHERE c.responsible_unit = u.code
			   AND c.status = v_open_state
			 ORDER BY c.due_at <= now() DESC, c.due_at, c.id
			 LIMIT v_page * k) y
		 ORDER BY y.due_at <= now() DESC, y.due_at, y.id
		 LIMIT k OFFSET (v_page - 1) * k) x;
	RETURN pakn.reply(p_gateway, p_msisdn, 'official_list',
		jsonb_build_object('unit', v_unit, 'open', v_open,
			'overdue', v_overdue, 'page', v_page, 'pages', v_pages,
			'items', v_items, 'more', CASE WHEN v_page < v_pages
				THEN format('. Tiếp: DS %s', v_page + 1)
				ELSE '. Xem: XEM <mã>' END), NULL, p_inbound);
END;
$$;

-- A ledger event in a few words for XEM ("03/12 chuyển 00082").
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

-- XEM <ticket>: the complaint (category, status, due date, the start of
-- its text) and its last events, for an official who may act on it; from
-- a citizen, the status of their own ticket (as TT).
CREATE OR REPLACE FUNCTION pakn.sms_show(p_gateway text, p_msisdn text, p_ticket text,
	p_ticket_ok boolean, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
	v_history text;
BEGIN
	IF (pakn.official_by_phone(p_msisdn)).id IS NULL
			AND pakn.official_unit(p_msisdn) IS NULL THEN
		RETURN pakn.sms_status(p_gateway, p_msisdn, p_ticket, p_ticket_ok,
			p_inbound);
	END IF;
	p := pakn.official_ticket(p_gateway, p_msisdn, p_ticket, p_ticket_ok,
		false, p_inbound);
	IF p.replies IS NOT NULL THEN
		RETURN p.replies;
	END IF;
	SELECT string_agg(pakn.event_short(e), ', ' ORDER BY e.id) INTO v_history
	  FROM (SELECT * FROM pakn.complaint_event x
		 WHERE x.complaint_id = (p.c).id
		   AND x.event NOT IN ('assigned', 'located', 'apologised')
		 ORDER BY x.id DESC LIMIT 5) e;
	RETURN pakn.reply(p_gateway, p_msisdn, 'official_show',
		pakn.complaint_vars((p.c).id) || jsonb_build_object(
			'text', left((p.c).text, 80)
				|| CASE WHEN length((p.c).text) > 80 THEN '…' ELSE '' END,
			'overdue', CASE WHEN (p.c).status = 'open'
				AND (p.c).due_at <= now() THEN ' (QH)' ELSE '' END,
			'history', coalesce(v_history, '')),
		(p.c).id, p_inbound);
END;
$$;

-- GH <ticket> <days> <reason>: extend an open complaint's deadline once,
-- before it passes, by at most the category's extension_days (working or
-- calendar days as the category counts), ledgered; the citizen is told.
CREATE OR REPLACE FUNCTION pakn.sms_extend(p_gateway text, p_msisdn text,
	p_ticket text, p_ticket_ok boolean, p_days integer, p_reason text,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
	c pakn.complaint;
	cat pakn.category;
	v_actor text := coalesce((pakn.official_by_phone(p_msisdn)).id::text,
		p_msisdn);
	v_why text;
BEGIN
	p := pakn.official_ticket(p_gateway, p_msisdn, p_ticket, p_ticket_ok,
		true, p_inbound);
	IF p.replies IS NOT NULL THEN
		RETURN p.replies;
	END IF;
	c := p.c;
	SELECT * INTO STRICT cat FROM pakn.category WHERE code = c.category_code;
	v_why := CASE
		WHEN c.extended THEN format('phản ánh %s đã được gia hạn một lần.',
			c.ticket)
		WHEN c.due_at <= now() THEN format('phản ánh %s đã quá hạn, '
			'không gia hạn được nữa.', c.ticket)
		WHEN cat.extension_days = 0 THEN format('loại phản ánh "%s" không '
			'được gia hạn.', cat.name)
		WHEN coalesce(p_days, 0) NOT BETWEEN 1 AND cat.extension_days
		THEN format('số ngày gia hạn từ 1 đến %s %s. Gửi: GH %s <số ngày> '
			'<lý do>', cat.extension_days, CASE WHEN cat.working_days
			THEN 'ngày làm việc' ELSE 'ngày' END, c.ticket)
		WHEN coalesce(p_reason, '') = '' THEN format('thiếu lý do. Gửi: GH '
			'%s %s <lý do>', c.ticket, p_days) END;
	IF v_why IS NOT NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn, v_why, p_inbound);
	END IF;
	UPDATE pakn.complaint SET extended = true,
		due_at = pakn.due_after(c.due_at - interval '1 second', p_days,
			cat.working_days)
	 WHERE id = c.id RETURNING * INTO c;
	PERFORM pakn.ledger(c.id, 'official', v_actor, 'extended', p_reason,
		jsonb_build_object('due_at', c.due_at, 'days', p_days));
	RETURN pakn.reply(c.gateway, c.msisdn, 'extended',
			pakn.vars(c.id, jsonb_build_object('reason', p_reason)), c.id,
			NULL)
	     + pakn.reply(p_gateway, p_msisdn, 'official_extended',
			pakn.vars(c.id, jsonb_build_object('days', p_days)), c.id,
			p_inbound);
END;
$$;

-- Where TC sends a complaint back: the unit that last transferred it
-- here (not by sending it back itself) when that is within the same
-- province, else the province (its reception desk); NULL when the
-- complaint is with the province already.
CREATE OR REPLACE FUNCTION pakn.return_target(c pakn.complaint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT e.detail->>'from' FROM pakn.complaint_event e
		  WHERE e.complaint_id = c.id AND e.event = 'transferred'
		    AND e.detail->>'to' = c.responsible_unit
		    AND e.detail->>'from' <> c.responsible_unit
		    AND NOT coalesce((e.detail->>'returned')::boolean, false)
		    AND pakn.transfer_in_scope(c.responsible_unit,
			e.detail->>'from')
		  ORDER BY e.id DESC LIMIT 1),
		-- The province's triage desk (017), else the province; from
		-- the province itself, nowhere (it rejects).
		CASE WHEN pakn.transfer_scope(c.responsible_unit)
			  <> c.responsible_unit
		     THEN nullif(coalesce(pakn.desk_of(c.location_unit),
			pakn.desk_of(c.responsible_unit)), c.responsible_unit)
		END,
		nullif(pakn.transfer_scope(c.responsible_unit), c.responsible_unit))
$$;

-- TC <ticket> <reason>: not within the unit's competence. The complaint
-- goes back, with the reason and in triage, to the unit that sent it or
-- to the province's desk, which forwards it to the right unit (ledger:
-- returned, then transferred; the deadline stays). At the province itself
-- it is rejected and the citizen told why.
CREATE OR REPLACE FUNCTION pakn.sms_return(p_gateway text, p_msisdn text,
	p_ticket text, p_ticket_ok boolean, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
	c pakn.complaint;
	v_actor text := coalesce((pakn.official_by_phone(p_msisdn)).id::text,
		p_msisdn);
	v_to text;
	v_from_name text;
	n integer;
BEGIN
	p := pakn.official_ticket(p_gateway, p_msisdn, p_ticket, p_ticket_ok,
		true, p_inbound);
	IF p.replies IS NOT NULL THEN
		RETURN p.replies;
	ELSIF coalesce(p_reason, '') = '' THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn, format(
			'thiếu lý do. Gửi: TC %s <lý do>', (p.c).ticket), p_inbound);
	END IF;
	c := p.c;
	v_to := pakn.return_target(c);
	IF v_to IS NULL THEN
		n := pakn.complaint_reject(c.id, v_actor, p_reason);
		RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_rejected',
			pakn.complaint_vars(c.id), c.id, p_inbound);
	END IF;
	SELECT name INTO v_from_name FROM pakn.unit WHERE code = c.responsible_unit;
	PERFORM pakn.ledger(c.id, 'official', v_actor, 'returned', p_reason,
		jsonb_build_object('from', c.responsible_unit, 'to', v_to));
	UPDATE pakn.complaint SET responsible_unit = v_to, triage = true
	 WHERE id = c.id;
	PERFORM pakn.ledger(c.id, 'official', v_actor, 'transferred', p_reason,
		jsonb_build_object('from', c.responsible_unit, 'to', v_to,
			'returned', true));
	n := pakn.reply(c.gateway, c.msisdn, 'returned', pakn.vars(c.id,
			jsonb_build_object('reason', p_reason,
				'from_unit', v_from_name)), c.id, NULL, false)
	   + pakn.notify_unit(v_to, '{officer,leader}', 'new_complaint', c.id);
	RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_returned',
		pakn.complaint_vars(c.id), c.id, p_inbound);
END;
$$;

-- BC TAT / BC BAT from a leader's phone: the summary off or on.
CREATE OR REPLACE FUNCTION pakn.sms_summary(p_gateway text, p_msisdn text, p_on boolean,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.official SET summary_sms = p_on, updated_at = now()
	 WHERE phone = p_msisdn AND active AND role IN ('leader', 'admin');
	IF NOT FOUND THEN
		RETURN pakn.reply(p_gateway, p_msisdn, 'report_refused', '{}',
			NULL, p_inbound);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, CASE WHEN p_on THEN 'summary_on'
		ELSE 'summary_off' END, '{}', NULL, p_inbound);
END;
$$;

-- Answers to the waiting survey: p_digit (0: none) is the satisfaction;
-- p_letters ("CK", "C", "": as the grammar read them, in order) answer
-- "on time?" then "asked for money?": two letters both, in that order;
-- one letter the first of the two still unanswered. Answers may come in
-- several messages; a later one corrects an earlier one. Returns the
-- SMS queued.
CREATE OR REPLACE FUNCTION pakn.sms_survey(p_gateway text, p_msisdn text,
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
