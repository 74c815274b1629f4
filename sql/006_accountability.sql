-- 006: accountability. Officials and their API tokens, deadline rules with
-- extensions, Vietnam's holiday calendar, reminders, escalation and
-- apologies (exactly once per complaint), ratings that close or reopen a
-- complaint, and the ledger as the complaint's history.

-- Settings of this installation (a secret for pseudonyms, among others).
CREATE TABLE pakn.setting (
	name  text PRIMARY KEY,
	value text NOT NULL
);
INSERT INTO pakn.setting VALUES ('pseudonym_secret',
	md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text)
	|| md5(random()::text));

CREATE TABLE pakn.official (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	unit_code  text NOT NULL REFERENCES pakn.unit (code),
	name       text NOT NULL CHECK (name <> ''),
	phone      text NOT NULL UNIQUE,
	role       text NOT NULL CHECK (role IN ('officer', 'leader', 'admin')),
	active     boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX official_unit_idx ON pakn.official (unit_code);

-- API tokens: only a SHA-256 of each token is kept.
CREATE TABLE pakn.api_token (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	official_id  bigint NOT NULL REFERENCES pakn.official (id),
	token_hash   bytea NOT NULL UNIQUE,
	created_at   timestamptz NOT NULL DEFAULT now(),
	revoked_at   timestamptz,
	last_used_at timestamptz
);

-- The active official a token belongs to, or NULL.
CREATE FUNCTION pakn.token_official(p_token text) RETURNS pakn.official
LANGUAGE sql STABLE AS $$
	SELECT o.* FROM pakn.api_token t
	  JOIN pakn.official o ON o.id = t.official_id AND o.active
	 WHERE t.token_hash = sha256(convert_to(p_token, 'UTF8'))
	   AND t.revoked_at IS NULL
$$;

-- Deadline rules: days, working or calendar, and one extension.
ALTER TABLE pakn.category
	ADD COLUMN extension_days integer NOT NULL DEFAULT 10
		CHECK (extension_days BETWEEN 0 AND 365);
-- Vietnamese practice: denunciations (corruption) 30 days, extendable by
-- 30; complaints about land 30 days, 45 when complex; feedback on
-- administrative procedures a short deadline.
UPDATE pakn.category SET extension_days = 30 WHERE code = 'corruption';
UPDATE pakn.category SET extension_days = 15
 WHERE code IN ('land_certificate', 'land_plan');
UPDATE pakn.category SET extension_days = 5
 WHERE code IN ('certification', 'one_stop_delay', 'online_service');

ALTER TABLE pakn.complaint
	DROP CONSTRAINT complaint_status_check,
	ADD CONSTRAINT complaint_status_check CHECK (status IN
		('needs_location', 'open', 'answered', 'withdrawn', 'rejected',
		 'closed')),
	ADD COLUMN extended       boolean NOT NULL DEFAULT false,
	ADD COLUMN overdue        boolean NOT NULL DEFAULT false,
	ADD COLUMN reopen_count   integer NOT NULL DEFAULT 0,
	ADD COLUMN reminded_at    timestamptz,
	ADD COLUMN escalated_at   timestamptz,
	ADD COLUMN apologized_at  timestamptz,
	ADD COLUMN new_due_at     timestamptz,
	ADD COLUMN rating_asked_at timestamptz,
	ADD COLUMN close_reason   text CHECK (close_reason IN ('confirmed',
		'unresolved', 'no_reply', 'withdrawn', 'rejected'));
CREATE INDEX complaint_due_idx ON pakn.complaint (due_at)
	WHERE status = 'open';
CREATE INDEX complaint_answered_idx ON pakn.complaint (answered_at)
	WHERE status = 'answered';

CREATE TABLE pakn.rating (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	complaint_id bigint REFERENCES pakn.complaint (id),
	unit_code    text NOT NULL REFERENCES pakn.unit (code),
	dimension    smallint NOT NULL REFERENCES pakn.papi_dimension (code),
	msisdn       text NOT NULL,
	score        smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
	at           timestamptz NOT NULL DEFAULT now(),
	inbound_id   bigint REFERENCES pakn.inbound_message (id)
);
CREATE INDEX rating_unit_idx ON pakn.rating (unit_code, at);

-- A due moment (end of the local day) n days after the local date of t.
CREATE FUNCTION pakn.due_after(t timestamptz, n integer, working boolean)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT ((CASE WHEN working
		     THEN pakn.add_working_days(pakn.local_date(t), n)
		     ELSE pakn.local_date(t) + n END)
		+ 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

INSERT INTO pakn.template (code, body, description) VALUES
	('ask_rating', 'Phản ánh {ticket} đã được trả lời. Vấn đề đã được giải quyết chưa? Nhắn 1-5 (1: chưa giải quyết, 5: rất hài lòng) hoặc DG {ticket} <1-5>.',
		'after an answer: ask the citizen to rate it'),
	('rated_closed', 'Cảm ơn bạn đã đánh giá phản ánh {ticket}: {score}/5. Phản ánh đã đóng.',
		'a rating that closes the complaint'),
	('rated_reopened', 'Cảm ơn bạn. Phản ánh {ticket} được mở lại và chuyển lại {unit}, hạn trả lời mới: {due}.',
		'a low rating reopened the complaint'),
	('rated_unresolved', 'Cảm ơn bạn đã đánh giá phản ánh {ticket}: {score}/5. Phản ánh được đóng với kết quả chưa giải quyết và được báo cáo lãnh đạo.',
		'a second low rating closes it as unresolved'),
	('no_rating_pending', 'Không có phản ánh nào đang chờ đánh giá. Để đánh giá, nhắn: DG <mã> <1-5>',
		'a digit without a pending question'),
	('cannot_rate', 'Phản ánh {ticket} {status}, chưa thể đánh giá.',
		'rating a complaint that is not answered'),
	('unresolved', 'Chưa giải quyết: phản ánh {ticket} ({category}) của {unit} bị người dân đánh giá chưa giải quyết sau khi mở lại, đã đóng.',
		'to the unit''s leaders when a reopened complaint is rated low again'),
	('reminder', 'Nhắc việc: phản ánh {ticket} ({category}) hạn trả lời {due}. Trả lời: TL {ticket} <nội dung>',
		'to the unit''s officers before the deadline'),
	('escalation', 'Quá hạn: phản ánh {ticket} ({category}) giao {unit} hạn {due} chưa được trả lời.',
		'to the unit''s leaders and the parent unit at the deadline'),
	('apology', 'Xin lỗi bạn: phản ánh {ticket} chưa được trả lời đúng hạn {due}. Ngày hẹn mới: {new_due}. Tra cứu: TT {ticket}',
		'to the citizen when the deadline passed'),
	('extended', 'Phản ánh {ticket} cần thêm thời gian xử lý ({reason}). Hạn trả lời mới: {due}.',
		'to the citizen when the deadline is extended'),
	('transferred', 'Phản ánh {ticket} đã được chuyển tới {unit}. Hạn trả lời: {due}.',
		'to the citizen when the complaint changes unit'),
	('rejected', 'Phản ánh {ticket} không thuộc thẩm quyền xử lý: {reason}',
		'to the citizen when the complaint is rejected'),
	('reopened', 'Phản ánh {ticket} được mở lại, hạn trả lời mới: {due}.',
		'to the citizen when an official reopens it');

-- The complaint's variables plus extra ones, for templates.
CREATE FUNCTION pakn.vars(p_id bigint, p_extra jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT pakn.complaint_vars(p_id) || p_extra
$$;

-- Queue a template to every phone of a unit's officials of the given
-- roles and to the unit's own phones. Returns the number queued.
CREATE FUNCTION pakn.notify_unit(p_unit text, p_roles text[], p_template text,
	p_complaint bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	n integer := 0;
	ph text;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_complaint;
	FOR ph IN SELECT DISTINCT p FROM (
		SELECT o.phone AS p FROM pakn.official o
		 WHERE o.unit_code = p_unit AND o.active AND o.role = ANY (p_roles)
		UNION
		SELECT unnest(u.phones) FROM pakn.unit u WHERE u.code = p_unit) x
	LOOP
		n := n + pakn.reply(c.gateway, ph, p_template,
			pakn.complaint_vars(p_complaint), p_complaint, NULL, true);
	END LOOP;
	RETURN n;
END;
$$;

-- Answer a complaint (by SMS from an official, or the API): record it,
-- relay it to the citizen, ask for a rating. Returns the number of SMS queued.
CREATE FUNCTION pakn.complaint_answer(p_id bigint, p_actor_id text,
	p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET status = 'answered', answer_text = p_text,
		answered_at = now(), rating_asked_at = now()
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'answered', NULL,
		jsonb_build_object('text', p_text,
			'on_time', c.answered_at <= c.due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'answer', pakn.complaint_vars(p_id),
		p_id, p_inbound)
	     + pakn.reply(c.gateway, c.msisdn, 'ask_rating',
		pakn.complaint_vars(p_id), p_id, p_inbound, false);
END;
$$;

-- Hand a complaint to another unit; the deadline stays (the law counts
-- from acceptance). Returns the number of SMS queued.
CREATE FUNCTION pakn.complaint_transfer(p_id bigint, p_actor text,
	p_actor_id text, p_unit text, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_from text;
BEGIN
	SELECT responsible_unit INTO v_from FROM pakn.complaint WHERE id = p_id;
	UPDATE pakn.complaint SET responsible_unit = p_unit
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, p_actor, p_actor_id, 'transferred', p_reason,
		jsonb_build_object('from', v_from, 'to', p_unit));
	RETURN pakn.reply(c.gateway, c.msisdn, 'transferred',
		pakn.complaint_vars(p_id), p_id, NULL, false)
	     + pakn.notify_unit(p_unit, '{officer,leader}', 'new_complaint', p_id);
END;
$$;

-- Refuse a complaint as outside the unit's remit, with the reason.
CREATE FUNCTION pakn.complaint_reject(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET status = 'rejected', close_reason = 'rejected',
		closed_at = now()
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'rejected', p_reason);
	RETURN pakn.reply(c.gateway, c.msisdn, 'rejected',
		pakn.vars(p_id, jsonb_build_object('reason', p_reason)), p_id, NULL);
END;
$$;

-- Extend the deadline once (complex case, remote area), with the reason.
-- Returns the number of SMS queued, or -1 if it was extended already.
CREATE FUNCTION pakn.complaint_extend(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	cat pakn.category;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	IF c.extended THEN
		RETURN -1;
	END IF;
	SELECT * INTO STRICT cat FROM pakn.category WHERE code = c.category_code;
	UPDATE pakn.complaint SET extended = true,
		due_at = pakn.due_after(c.due_at - interval '1 second',
			cat.extension_days, cat.working_days)
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'extended', p_reason,
		jsonb_build_object('due_at', c.due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'extended',
		pakn.vars(p_id, jsonb_build_object('reason', p_reason)), p_id, NULL);
END;
$$;

-- Reopen an answered or closed complaint to the same unit with a new
-- deadline (by an official, or by the citizen's low rating).
CREATE FUNCTION pakn.complaint_reopen(p_id bigint, p_actor text,
	p_actor_id text, p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	UPDATE pakn.complaint SET status = 'open', reopen_count = reopen_count + 1,
		due_at = pakn.due_at(c.category_code, now()), overdue = false,
		reminded_at = NULL, escalated_at = NULL, apologized_at = NULL,
		new_due_at = NULL, answered_at = NULL, answer_text = NULL,
		rating_asked_at = NULL, closed_at = NULL, close_reason = NULL
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, p_actor, p_actor_id, 'reopened', p_reason,
		jsonb_build_object('due_at', c.due_at));
END;
$$;

-- Close a complaint.
CREATE FUNCTION pakn.complaint_close(p_id bigint, p_actor text,
	p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.complaint SET status = 'closed', close_reason = p_reason,
		closed_at = now(), rating_asked_at = NULL
	 WHERE id = p_id;
	PERFORM pakn.ledger(p_id, p_actor, NULL, 'closed', p_reason);
END;
$$;

-- A citizen's rating of an answered complaint: 4-5 or 3 close it; 1-2
-- ("not solved") reopen it once to the same unit, then close it as
-- unresolved. Returns the number of SMS queued.
CREATE FUNCTION pakn.complaint_rate(p_id bigint, p_score integer,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_unit text;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	IF c.status <> 'answered' THEN
		RETURN pakn.reply(c.gateway, c.msisdn, 'cannot_rate',
			pakn.complaint_vars(p_id), p_id, p_inbound);
	END IF;
	INSERT INTO pakn.rating (complaint_id, unit_code, dimension, msisdn,
		score, inbound_id)
	VALUES (p_id, c.responsible_unit, c.dimension, c.msisdn, p_score,
		p_inbound);
	PERFORM pakn.ledger(p_id, 'citizen', NULL, 'rated', NULL,
		jsonb_build_object('score', p_score));
	IF p_score >= 3 THEN
		PERFORM pakn.complaint_close(p_id, 'citizen', 'confirmed');
		RETURN pakn.reply(c.gateway, c.msisdn, 'rated_closed',
			pakn.vars(p_id, jsonb_build_object('score', p_score)),
			p_id, p_inbound);
	ELSIF c.reopen_count = 0 THEN
		PERFORM pakn.complaint_reopen(p_id, 'citizen', NULL, 'not solved');
		v_unit := c.responsible_unit;
		RETURN pakn.reply(c.gateway, c.msisdn, 'rated_reopened',
			pakn.complaint_vars(p_id), p_id, p_inbound)
		     + pakn.notify_unit(v_unit, '{officer,leader}', 'new_complaint',
			p_id);
	END IF;
	PERFORM pakn.complaint_close(p_id, 'citizen', 'unresolved');
	RETURN pakn.reply(c.gateway, c.msisdn, 'rated_unresolved',
		pakn.vars(p_id, jsonb_build_object('score', p_score)), p_id,
		p_inbound)
	     + pakn.notify_unit(c.responsible_unit, '{leader}', 'unresolved',
		p_id);
END;
$$;

-- DG <ticket> <1-5>, or a bare digit answering the rating question.
CREATE FUNCTION pakn.sms_rate(p_gateway text, p_msisdn text, p_ticket text,
	p_ticket_ok boolean, p_rating integer, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
	v_id bigint;
BEGIN
	IF p_ticket IS NULL OR p_ticket = '' THEN
		SELECT id INTO v_id FROM pakn.complaint
		 WHERE msisdn = p_msisdn AND status = 'answered'
		   AND rating_asked_at IS NOT NULL
		 ORDER BY answered_at DESC LIMIT 1;
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

-- The official an SMS comes from (active, by phone), or NULL.
CREATE FUNCTION pakn.official_by_phone(p_msisdn text) RETURNS pakn.official
LANGUAGE sql STABLE AS $$
	SELECT * FROM pakn.official WHERE phone = p_msisdn AND active
$$;

-- May this official act on complaints of this unit? Officers: their unit;
-- leaders and admins: their unit's subtree.
CREATE FUNCTION pakn.official_may(o pakn.official, p_unit text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT o.id IS NOT NULL AND p_unit IS NOT NULL AND CASE o.role
		WHEN 'officer' THEN p_unit = o.unit_code
		ELSE pakn.unit_in_subtree(p_unit, o.unit_code) END
$$;

-- TL <ticket> <answer> / CT <ticket> <unit> <reason> from an official's
-- registered phone (or, for units without officials yet, a unit phone).
CREATE FUNCTION pakn.sms_official(p_gateway text, p_msisdn text,
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
	END IF;
	n := pakn.complaint_transfer(c.id, 'official',
		coalesce(o.id::text, p_msisdn), v_target, p_text);
	RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_transferred',
		pakn.complaint_vars(c.id), c.id, p_inbound);
END;
$$;

-- TT <ticket>: the status of one's own complaint; for one that waits for
-- its commune, the question again.
CREATE FUNCTION pakn.sms_status(p_gateway text, p_msisdn text,
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

-- One inbound SMS, parsed by paknd's grammar (daemon/grammar.c): store it
-- (idempotent on the gateway's id), act on it, queue the replies. A
-- duplicate does nothing more. Returns the number of SMS queued.
CREATE FUNCTION pakn.handle_sms(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text,
	OUT message_id bigint, OUT duplicate boolean, OUT replies integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_pending bigint;
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
	replies := CASE
	WHEN p_kind = 'complaint' AND (p_keyword OR v_pending IS NULL) THEN
		pakn.complaint_new(p_gateway, p_msisdn, message_id, p_text,
			p_unit, p_keyword)
	-- A waiting complaint's location given inside a sentence ("Nhà tôi
	-- ở phường Ba Đình #00004").
	WHEN p_kind = 'complaint' AND EXISTS (SELECT 1 FROM pakn.unit
			WHERE code = p_unit) THEN
		pakn.sms_register(p_gateway, p_msisdn, p_unit, message_id, false)
	WHEN p_kind = 'complaint' THEN
		pakn.reply(p_gateway, p_msisdn, 'ask_location_again',
			jsonb_build_object('ticket', (SELECT ticket FROM pakn.complaint
				WHERE id = v_pending), 'example', pakn.example_commune()),
			v_pending, message_id)
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
	WHEN p_kind IN ('answer', 'transfer') THEN
		pakn.sms_official(p_gateway, p_msisdn, p_kind, p_ticket,
			p_ticket_ok, p_unit, p_text, message_id)
	WHEN p_kind IN ('rate', 'digit') THEN
		pakn.sms_rate(p_gateway, p_msisdn, p_ticket, p_ticket_ok, p_rating,
			message_id)
	-- pakn.sms_report is defined by 009_stats.sql.
	WHEN p_kind = 'report' THEN
		pakn.sms_report(p_gateway, p_msisdn, message_id)
	ELSE
		pakn.reply(p_gateway, p_msisdn, 'help', '{}', NULL, message_id)
	END;
END;
$$;

-- The deadline worker's pass: reminders before the deadline, escalation
-- and apology at it, closing answered complaints nobody rated. Each
-- happens once per complaint (a timestamp column guards it); one instance
-- at a time does the work (advisory lock). Returns what it did.
CREATE FUNCTION pakn.deadline_run(p_remind_days integer, p_apology_days integer,
	p_rating_wait_days integer, p_limit integer,
	OUT locked boolean, OUT reminded integer, OUT escalated integer,
	OUT closed integer, OUT sms integer)
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_parent text;
BEGIN
	reminded := 0; escalated := 0; closed := 0; sms := 0;
	locked := pg_try_advisory_xact_lock(7141747);
	IF NOT locked THEN
		RETURN;
	END IF;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'open' AND reminded_at IS NULL
		    AND now() < due_at
		    AND pakn.add_working_days(pakn.local_date(now()), p_remind_days)
			>= pakn.local_date(due_at - interval '1 second')
		  ORDER BY due_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		UPDATE pakn.complaint SET reminded_at = now() WHERE id = c.id;
		PERFORM pakn.ledger(c.id, 'system', NULL, 'reminded');
		sms := sms + pakn.notify_unit(c.responsible_unit,
			'{officer,leader,admin}', 'reminder', c.id);
		reminded := reminded + 1;
	END LOOP;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'open' AND escalated_at IS NULL AND now() >= due_at
		  ORDER BY due_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		UPDATE pakn.complaint SET overdue = true, escalated_at = now(),
			apologized_at = now(),
			new_due_at = pakn.due_after(now(), p_apology_days, true)
		 WHERE id = c.id RETURNING * INTO c;
		SELECT parent_code INTO v_parent FROM pakn.unit
		 WHERE code = c.responsible_unit;
		PERFORM pakn.ledger(c.id, 'system', NULL, 'escalated', NULL,
			jsonb_build_object('unit', c.responsible_unit,
				'parent', v_parent));
		sms := sms + pakn.notify_unit(c.responsible_unit, '{leader}',
			'escalation', c.id);
		IF v_parent IS NOT NULL THEN
			sms := sms + pakn.notify_unit(v_parent, '{leader,admin}',
				'escalation', c.id);
		END IF;
		PERFORM pakn.ledger(c.id, 'system', NULL, 'apologised', NULL,
			jsonb_build_object('new_due_at', c.new_due_at));
		sms := sms + pakn.reply(c.gateway, c.msisdn, 'apology',
			pakn.vars(c.id, jsonb_build_object('new_due',
				pakn.due_vi(c.new_due_at))), c.id, NULL);
		escalated := escalated + 1;
	END LOOP;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'answered'
		    AND answered_at < now() - make_interval(days => p_rating_wait_days)
		  ORDER BY answered_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM pakn.complaint_close(c.id, 'system', 'no_reply');
		closed := closed + 1;
	END LOOP;
END;
$$;

-- A complaint's state rebuilt from its ledger alone: the ledger is the
-- truth, the row a cache of it (tests compare the two).
CREATE FUNCTION pakn.complaint_replay(p_id bigint,
	OUT status text, OUT responsible_unit text, OUT location_unit text,
	OUT due_at timestamptz, OUT extended boolean, OUT overdue boolean,
	OUT reopen_count integer, OUT close_reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e pakn.complaint_event;
BEGIN
	extended := false; overdue := false; reopen_count := 0;
	FOR e IN SELECT * FROM pakn.complaint_event WHERE complaint_id = p_id
		  ORDER BY id LOOP
		CASE e.event
		WHEN 'received' THEN status := 'needs_location';
		WHEN 'routed' THEN
			status := 'open';
			location_unit := e.detail->>'location';
			responsible_unit := e.detail->>'unit';
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'transferred' THEN responsible_unit := e.detail->>'to';
		WHEN 'extended' THEN
			extended := true;
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'escalated' THEN overdue := true;
		WHEN 'answered' THEN status := 'answered';
		WHEN 'reopened' THEN
			status := 'open';
			reopen_count := reopen_count + 1;
			overdue := false;
			close_reason := NULL;
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'withdrawn' THEN status := 'withdrawn'; close_reason := 'withdrawn';
		WHEN 'rejected' THEN status := 'rejected'; close_reason := 'rejected';
		WHEN 'closed' THEN status := 'closed'; close_reason := e.reason;
		ELSE NULL;
		END CASE;
	END LOOP;
END;
$$;

-- Route a complaint that knows its location: ledger (with the due date,
-- so replays know it), ack, and a note to the responsible unit. Returns
-- the number of SMS queued.
CREATE FUNCTION pakn.complaint_route(p_id bigint, p_location text,
	p_template text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_unit text;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_unit := pakn.route(c.category_code, p_location);
	UPDATE pakn.complaint SET location_unit = p_location,
		responsible_unit = v_unit, status = 'open', routed_at = now(),
		due_at = pakn.due_at(c.category_code, c.created_at)
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'system', NULL, 'routed', NULL,
		jsonb_build_object('location', p_location, 'unit', v_unit,
			'due_at', c.due_at));
	PERFORM pakn.ledger(p_id, 'system', NULL, 'assigned', NULL,
		jsonb_build_object('unit', v_unit));
	RETURN pakn.reply(c.gateway, c.msisdn, p_template,
		pakn.complaint_vars(p_id), p_id, p_inbound)
	     + pakn.notify_unit(v_unit, '{officer,leader}', 'new_complaint', p_id);
END;
$$;

-- HUY <ticket>: withdraw one's own complaint while it is not answered.
CREATE FUNCTION pakn.sms_withdraw(p_gateway text, p_msisdn text,
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

-- Imports of officials (unit_code,name,phone,role) and holidays
-- (date,kind,name), as in 005.
CREATE FUNCTION pakn.import_officials(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_official ORDER BY line LOOP
		IF NOT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.code = r.unit_code) THEN
			RAISE EXCEPTION 'line %: unknown unit_code %', r.line, r.unit_code;
		ELSIF coalesce(r.name, '') = '' THEN
			RAISE EXCEPTION 'line %: official has no name', r.line;
		ELSIF r.phone IS NULL THEN
			RAISE EXCEPTION 'line %: official has no phone', r.line;
		ELSIF r.role IS NULL OR r.role NOT IN ('officer', 'leader', 'admin') THEN
			RAISE EXCEPTION 'line %: role "%" is not officer, leader or admin',
				r.line, r.role;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_official d
				WHERE d.phone = r.phone AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: phone % appears twice in the file',
				r.line, r.phone;
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE o.id IS NULL),
	       count(*) FILTER (WHERE o.id IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_official i
	  LEFT JOIN pakn.official o ON o.phone = i.phone;
	INSERT INTO pakn.official (unit_code, name, phone, role)
	SELECT i.unit_code, i.name, i.phone, i.role FROM pg_temp.import_official i
	ON CONFLICT (phone) DO UPDATE SET unit_code = excluded.unit_code,
		name = excluded.name, role = excluded.role, active = true,
		updated_at = now();
END;
$$;

CREATE FUNCTION pakn.import_holidays(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_holiday ORDER BY line LOOP
		IF r.day IS NULL THEN
			RAISE EXCEPTION 'line %: date must be YYYY-MM-DD', r.line;
		ELSIF r.kind IS NULL OR r.kind NOT IN ('holiday', 'workday') THEN
			RAISE EXCEPTION 'line %: kind "%" is not holiday or workday',
				r.line, r.kind;
		ELSIF r.kind = 'workday' AND extract(isodow FROM r.day) < 6 THEN
			RAISE EXCEPTION 'line %: % is a weekday; a make-up workday is a Saturday or Sunday',
				r.line, r.day;
		ELSIF coalesce(r.name, '') = '' THEN
			RAISE EXCEPTION 'line %: holiday has no name', r.line;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_holiday d
				WHERE d.day = r.day AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: % appears twice in the file', r.line, r.day;
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE h.day IS NULL),
	       count(*) FILTER (WHERE h.day IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_holiday i LEFT JOIN pakn.holiday h ON h.day = i.day;
	INSERT INTO pakn.holiday (day, kind, name)
	SELECT i.day, i.kind, i.name FROM pg_temp.import_holiday i
	ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name;
END;
$$;

-- Vietnam's public holidays 2025-2027 (Labour Code 2019, art. 112: 1/1,
-- Tết 5 days, Hùng Kings' day 10/3 lunar, 30/4, 1/5, 2/9 and the day
-- before or after) with the days off moved by the government's decisions
-- and the make-up Saturdays. Holidays falling on a weekend are moved to
-- the next working day. 2026 and 2027 follow the announced pattern;
-- update them with `paknctl import-holidays` when the decisions are out.
INSERT INTO pakn.holiday (day, kind, name) VALUES
	('2025-01-01', 'holiday', 'Tết Dương lịch'),
	('2025-01-27', 'holiday', 'Tết Nguyên đán (28 tháng Chạp)'),
	('2025-01-28', 'holiday', 'Tết Nguyên đán (29 tháng Chạp)'),
	('2025-01-29', 'holiday', 'Tết Nguyên đán (mùng 1)'),
	('2025-01-30', 'holiday', 'Tết Nguyên đán (mùng 2)'),
	('2025-01-31', 'holiday', 'Tết Nguyên đán (mùng 3)'),
	('2025-04-07', 'holiday', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'),
	('2025-04-26', 'workday', 'Làm bù cho ngày 2/5'),
	('2025-04-30', 'holiday', 'Ngày Giải phóng miền Nam'),
	('2025-05-01', 'holiday', 'Ngày Quốc tế Lao động'),
	('2025-05-02', 'holiday', 'Nghỉ hoán đổi (làm bù 26/4)'),
	('2025-09-01', 'holiday', 'Quốc khánh (ngày liền kề)'),
	('2025-09-02', 'holiday', 'Quốc khánh'),
	('2026-01-01', 'holiday', 'Tết Dương lịch'),
	('2026-02-16', 'holiday', 'Tết Nguyên đán (29 tháng Chạp)'),
	('2026-02-17', 'holiday', 'Tết Nguyên đán (mùng 1)'),
	('2026-02-18', 'holiday', 'Tết Nguyên đán (mùng 2)'),
	('2026-02-19', 'holiday', 'Tết Nguyên đán (mùng 3)'),
	('2026-02-20', 'holiday', 'Tết Nguyên đán (mùng 4)'),
	('2026-04-27', 'holiday', 'Giỗ Tổ Hùng Vương (nghỉ bù, 10/3 âm lịch là Chủ nhật)'),
	('2026-04-30', 'holiday', 'Ngày Giải phóng miền Nam'),
	('2026-05-01', 'holiday', 'Ngày Quốc tế Lao động'),
	('2026-09-01', 'holiday', 'Quốc khánh (ngày liền kề)'),
	('2026-09-02', 'holiday', 'Quốc khánh'),
	('2027-01-01', 'holiday', 'Tết Dương lịch'),
	('2027-02-05', 'holiday', 'Tết Nguyên đán (30 tháng Chạp)'),
	('2027-02-08', 'holiday', 'Tết Nguyên đán (mùng 3)'),
	('2027-02-09', 'holiday', 'Tết Nguyên đán (mùng 4)'),
	('2027-02-10', 'holiday', 'Tết Nguyên đán (nghỉ bù mùng 1)'),
	('2027-02-11', 'holiday', 'Tết Nguyên đán (nghỉ bù mùng 2)'),
	('2027-04-16', 'holiday', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'),
	('2027-04-30', 'holiday', 'Ngày Giải phóng miền Nam'),
	('2027-05-03', 'holiday', 'Ngày Quốc tế Lao động (nghỉ bù, 1/5 là thứ Bảy)'),
	('2027-09-02', 'holiday', 'Quốc khánh'),
	('2027-09-03', 'holiday', 'Quốc khánh (ngày liền kề)');
