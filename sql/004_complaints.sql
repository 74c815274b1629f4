-- 004: citizens, complaints and their tickets, the ledger, reply
-- templates, the outbox, and the citizens' SMS commands that need no
-- official (complaint, location, withdrawal, STOP). pakn.handle_sms, which
-- dispatches an inbound SMS to them, is in 006 with the officials' and
-- the rating commands.

CREATE TABLE pakn.citizen (
	msisdn     text PRIMARY KEY,
	home_unit  text REFERENCES pakn.unit (code),
	opted_out  boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- Public holidays and make-up working days (kind 'workday', a Saturday
-- the government makes a working day), per year.
CREATE TABLE pakn.holiday (
	day  date PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
	name text NOT NULL
);

-- Is this date a working day in Vietnam?
CREATE FUNCTION pakn.is_working_day(d date) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT h.kind = 'workday' FROM pakn.holiday h
			  WHERE h.day = d),
		extract(isodow FROM d) < 6)
$$;

-- The date n working days after d (day 1 is the next working day).
CREATE FUNCTION pakn.add_working_days(d date, n integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r date := d;
	left_ integer := n;
BEGIN
	WHILE left_ > 0 LOOP
		r := r + 1;
		IF pakn.is_working_day(r) THEN
			left_ := left_ - 1;
		END IF;
	END LOOP;
	RETURN r;
END;
$$;

-- The local (Asia/Ho_Chi_Minh) date of a moment.
CREATE FUNCTION pakn.local_date(t timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
	SELECT (t AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
$$;

-- When a complaint of this category received at t must be answered: the
-- end of the due day, local time.
CREATE FUNCTION pakn.due_at(p_category text, t timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT ((CASE WHEN c.working_days
		     THEN pakn.add_working_days(pakn.local_date(t), c.deadline_days)
		     ELSE pakn.local_date(t) + c.deadline_days END)
		+ 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
	  FROM pakn.category c WHERE c.code = p_category
$$;

-- Tickets: 6 symbols of an alphabet without 0/O/1/I/L, from a scrambled
-- sequence (so tickets are not guessable in order), and a check symbol c
-- making the weighted sum (position i weighs i) of all 7 symbol indexes 0
-- mod 31: every single mistyped symbol and every swap of two symbols is
-- detected (daemon/ticket.c checks tickets the same way).
CREATE SEQUENCE pakn.ticket_seq;

CREATE FUNCTION pakn.ticket_encode(n bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	a constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
	x bigint := ((n % 887503681) * 387420489 + 123456789) % 887503681;
	s text := '';
	total integer := 0;
BEGIN
	FOR i IN 1..6 LOOP
		s := substr(a, (x % 31)::integer + 1, 1) || s;
		x := x / 31;
	END LOOP;
	FOR i IN 1..6 LOOP
		total := total + i * (strpos(a, substr(s, i, 1)) - 1);
	END LOOP;
	-- 7 * c + total = 0 (mod 31); 9 is the inverse of 7 mod 31.
	RETURN s || substr(a, (31 - total % 31 * 9 % 31) % 31 + 1, 1);
END;
$$;

CREATE TABLE pakn.complaint (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticket           text NOT NULL UNIQUE,
	msisdn           text NOT NULL REFERENCES pakn.citizen (msisdn),
	gateway          text NOT NULL,
	inbound_id       bigint REFERENCES pakn.inbound_message (id),
	category_code    text NOT NULL REFERENCES pakn.category (code),
	dimension        smallint NOT NULL REFERENCES pakn.papi_dimension (code),
	sensitive        boolean NOT NULL DEFAULT false,
	location_unit    text REFERENCES pakn.unit (code),
	responsible_unit text REFERENCES pakn.unit (code),
	status           text NOT NULL CHECK (status IN ('needs_location',
				'open', 'answered', 'withdrawn', 'closed')),
	text             text NOT NULL,
	answer_text      text,
	created_at       timestamptz NOT NULL DEFAULT now(),
	routed_at        timestamptz,
	due_at           timestamptz,
	answered_at      timestamptz,
	closed_at        timestamptz,
	CHECK (status = 'needs_location' OR responsible_unit IS NOT NULL)
);
CREATE INDEX complaint_msisdn_idx ON pakn.complaint (msisdn, created_at);
-- The complaint a citizen's next message may complete with its commune.
CREATE INDEX complaint_needs_location_idx ON pakn.complaint (msisdn, id)
	WHERE status = 'needs_location';
CREATE INDEX complaint_unit_idx ON pakn.complaint (responsible_unit, status);
COMMENT ON TABLE pakn.complaint IS
	'Complaints; change them only through the pakn.complaint_* functions';

-- The ledger: every change of a complaint, appended, never changed.
CREATE TABLE pakn.complaint_event (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	complaint_id bigint NOT NULL REFERENCES pakn.complaint (id),
	at           timestamptz NOT NULL DEFAULT now(),
	actor        text NOT NULL CHECK (actor IN ('citizen', 'official', 'system')),
	actor_id     text,
	event        text NOT NULL,
	reason       text,
	detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX complaint_event_complaint_idx ON pakn.complaint_event (complaint_id, id);

-- Refuse to change or delete ledger rows.
CREATE FUNCTION pakn.ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'pakn.complaint_event is append-only (% refused)', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER complaint_event_append_only
	BEFORE UPDATE OR DELETE ON pakn.complaint_event
	FOR EACH ROW EXECUTE FUNCTION pakn.ledger_append_only();
CREATE TRIGGER complaint_event_no_truncate
	BEFORE TRUNCATE ON pakn.complaint_event
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ledger_append_only();

-- Append one event to the ledger.
CREATE FUNCTION pakn.ledger(p_complaint bigint, p_actor text, p_actor_id text,
	p_event text, p_reason text DEFAULT NULL, p_detail jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO pakn.complaint_event (complaint_id, actor, actor_id, event,
		reason, detail)
	VALUES (p_complaint, p_actor, p_actor_id, p_event, p_reason, p_detail)
$$;

-- Reply texts, in Vietnamese, editable by operators (UPDATE
-- pakn.template SET body = ... WHERE code = ...). {name} is replaced.
CREATE TABLE pakn.template (
	code        text PRIMARY KEY,
	body        text NOT NULL CHECK (body <> ''),
	description text NOT NULL
);
INSERT INTO pakn.template (code, body, description) VALUES
	('ack', 'Đã nhận phản ánh, mã {ticket} ({category}). Đơn vị xử lý: {unit}. Hạn trả lời: {due}. Tra cứu: TT {ticket}',
		'a complaint was received and routed'),
	('ack_nokeyword', 'Tin của bạn được ghi nhận là phản ánh, mã {ticket} ({category}). Đơn vị xử lý: {unit}. Hạn trả lời: {due}. Tra cứu: TT {ticket}. Hướng dẫn: HD',
		'a message without keyword was taken as a complaint'),
	('ask_location', 'Đã nhận phản ánh, mã {ticket}. Bạn ở xã/phường nào? Gửi mã xã/phường (VD: {example}) để chuyển đúng nơi xử lý.',
		'a complaint needs its commune'),
	('ask_location_nokeyword', 'Tin của bạn được ghi nhận là phản ánh, mã {ticket}. Bạn ở xã/phường nào? Gửi mã xã/phường (VD: {example}) để chuyển đúng nơi xử lý.',
		'a message without keyword was taken as a complaint that needs its commune'),
	('ask_location_again', 'Phản ánh {ticket} đang chờ mã xã/phường. Gửi mã xã (VD: {example}), hoặc PA <nội dung> để gửi phản ánh mới.',
		'a message came while a complaint waits for its commune'),
	('unknown_unit', 'Mã xã/phường {code} không có trong danh sách. Gửi lại mã đúng, VD: {example}',
		'a unit code that does not exist'),
	('status', 'Phản ánh {ticket}: {status}. Đơn vị: {unit}. Hạn trả lời: {due}.',
		'status of a ticket'),
	('status_answered', 'Phản ánh {ticket} đã được {unit} trả lời ngày {answered}: {answer}',
		'status of an answered ticket'),
	('not_found', 'Không tìm thấy phản ánh {ticket} của số điện thoại này. Kiểm tra lại mã trên tin xác nhận.',
		'a ticket that does not exist or is someone else''s'),
	('bad_ticket', 'Mã {ticket} bị gõ sai (mã gồm 7 ký tự, VD: K7M4Q9X). Kiểm tra lại mã trên tin xác nhận.',
		'a ticket whose check symbol is wrong'),
	('need_ticket', 'Thiếu mã phản ánh. Gửi: {keyword} <mã>, VD: {keyword} K7M4Q9X',
		'a command that needs a ticket came without one'),
	('registered', 'Đã đăng ký xã/phường của bạn: {unit}. Phản ánh sau sẽ được chuyển về đây.',
		'home commune registered'),
	('need_unit', 'Gửi: DK <mã xã/phường>, VD: DK {example}',
		'DK without a code'),
	('withdrawn', 'Đã rút phản ánh {ticket}.', 'a complaint was withdrawn'),
	('cannot_withdraw', 'Phản ánh {ticket} {status}, không rút được nữa.',
		'a complaint that can no longer be withdrawn'),
	('help', 'PA <nội dung>: gửi phản ánh. TT <mã>: tra cứu. DK <mã xã>: đăng ký xã. HUY <mã>: rút phản ánh. TU CHOI: ngừng tin.',
		'help'),
	('stopped', 'Đã ngừng gửi tin không cần thiết. Bạn vẫn nhận trả lời cho phản ánh của mình.',
		'opted out'),
	('answer', 'Trả lời phản ánh {ticket} từ {unit}: {answer}',
		'an official''s answer relayed to the citizen'),
	('official_done', 'Đã gửi trả lời phản ánh {ticket} tới người dân.',
		'an official''s SMS answer was relayed'),
	('official_transferred', 'Đã chuyển phản ánh {ticket} tới {unit}.',
		'an official transferred a complaint by SMS'),
	('official_refused', 'Không thực hiện được: {reason}',
		'an official''s SMS command was refused'),
	('new_complaint', 'Phản ánh mới {ticket} ({category}), hạn {due}: {text}',
		'notification to the responsible unit''s phones');

-- Render a template with {name} placeholders from a JSON object.
CREATE FUNCTION pakn.render(p_code text, p_vars jsonb) RETURNS text
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

-- Every SMS pakn sends, written in the transaction that causes it.
CREATE TABLE pakn.outbox (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	gateway         text NOT NULL,
	msisdn          text NOT NULL,
	body            text NOT NULL CHECK (body <> ''),
	kind            text NOT NULL,
	complaint_id    bigint REFERENCES pakn.complaint (id),
	inbound_id      bigint REFERENCES pakn.inbound_message (id),
	state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',
				'sending', 'sent', 'delivered', 'undelivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	lease_until     timestamptz,
	gateway_ref     text,
	last_error      text,
	segments        integer,
	encoding        text CHECK (encoding IN ('gsm7', 'ucs2')),
	created_at      timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	delivered_at    timestamptz
);
CREATE INDEX outbox_due_idx ON pakn.outbox (next_attempt_at, id)
	WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_ref_idx ON pakn.outbox (gateway, gateway_ref);
CREATE INDEX outbox_complaint_idx ON pakn.outbox (complaint_id);

-- Queue one SMS from a template. Non-essential messages are not sent to
-- citizens who opted out. Returns 1 if queued, else 0.
CREATE FUNCTION pakn.reply(p_gateway text, p_msisdn text, p_template text,
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
CREATE FUNCTION pakn.status_vi(s text) RETURNS text
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
CREATE FUNCTION pakn.date_vi(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY')
$$;

-- The due date shown to people: the last day, not the midnight after it.
CREATE FUNCTION pakn.due_vi(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pakn.date_vi(t - interval '1 second')
$$;

-- The variables of a complaint for templates.
CREATE FUNCTION pakn.complaint_vars(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('ticket', c.ticket, 'category', cat.name,
		'unit', coalesce(u.name, ''), 'due', coalesce(pakn.due_vi(c.due_at), ''),
		'status', pakn.status_vi(c.status), 'answer', coalesce(c.answer_text, ''),
		'answered', coalesce(pakn.date_vi(c.answered_at), ''),
		'text', left(c.text, 100))
	  FROM pakn.complaint c
	  JOIN pakn.category cat ON cat.code = c.category_code
	  LEFT JOIN pakn.unit u ON u.code = c.responsible_unit
	 WHERE c.id = p_id
$$;

-- An example commune code for replies (the smallest one), or 00004.
CREATE FUNCTION pakn.example_commune() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT min(code) FROM pakn.unit WHERE kind = 'commune'),
		'00004')
$$;

-- A new complaint from a citizen. Returns the number of SMS queued.
CREATE FUNCTION pakn.complaint_new(p_gateway text, p_msisdn text,
	p_inbound bigint, p_text text, p_unit text, p_keyword boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
	v_loc text;
	v_id bigint;
	v_ticket text;
BEGIN
	SELECT * INTO STRICT v_cat FROM pakn.category
	 WHERE code = pakn.classify(p_text);
	v_ticket := pakn.ticket_encode(nextval('pakn.ticket_seq'));
	INSERT INTO pakn.complaint (ticket, msisdn, gateway, inbound_id,
		category_code, dimension, sensitive, status, text)
	VALUES (v_ticket, p_msisdn, p_gateway, p_inbound, v_cat.code,
		v_cat.dimension, v_cat.sensitive, 'needs_location', p_text)
	RETURNING id INTO v_id;
	PERFORM pakn.ledger(v_id, 'citizen', NULL, 'received', NULL,
		jsonb_build_object('category', v_cat.code, 'keyword', p_keyword));
	-- The location: a code in the text, else the registered commune.
	SELECT code INTO v_loc FROM pakn.unit WHERE code = p_unit;
	IF v_loc IS NULL THEN
		SELECT home_unit INTO v_loc FROM pakn.citizen WHERE msisdn = p_msisdn;
	END IF;
	IF v_loc IS NULL THEN
		RETURN pakn.reply(p_gateway, p_msisdn, CASE WHEN p_keyword
			THEN 'ask_location' ELSE 'ask_location_nokeyword' END,
			jsonb_build_object('ticket', v_ticket,
				'example', pakn.example_commune()), v_id, p_inbound);
	END IF;
	RETURN pakn.complaint_route(v_id, v_loc,
		CASE WHEN p_keyword THEN 'ack' ELSE 'ack_nokeyword' END, p_inbound);
END;
$$;

-- The citizen's complaint waiting for a location, if any.
CREATE FUNCTION pakn.pending_location(p_msisdn text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT id FROM pakn.complaint
	 WHERE msisdn = p_msisdn AND status = 'needs_location'
	 ORDER BY id DESC LIMIT 1
$$;

-- A complaint of this citizen by ticket (nothing for another's ticket).
CREATE FUNCTION pakn.own_complaint(p_msisdn text, p_ticket text)
RETURNS pakn.complaint
LANGUAGE sql STABLE AS $$
	SELECT * FROM pakn.complaint WHERE ticket = p_ticket AND msisdn = p_msisdn
$$;

-- A reply about a ticket that is missing, mistyped or not the sender's;
-- NULL when the ticket is fine.
CREATE FUNCTION pakn.ticket_problem(p_gateway text, p_msisdn text,
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
CREATE FUNCTION pakn.sms_register(p_gateway text, p_msisdn text, p_unit text,
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

-- The unit an official's phone belongs to (a phone of the unit).
CREATE FUNCTION pakn.official_unit(p_msisdn text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT code FROM pakn.unit WHERE p_msisdn = ANY (phones)
	 ORDER BY code LIMIT 1
$$;

-- An official's SMS command is refused, with the reason.
CREATE FUNCTION pakn.official_refuse(p_gateway text, p_msisdn text,
	p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE sql AS $$
	SELECT pakn.reply(p_gateway, p_msisdn, 'official_refused',
		jsonb_build_object('reason', p_reason), NULL, p_inbound)
$$;

-- TU CHOI / STOP: no more non-essential messages.
CREATE FUNCTION pakn.sms_stop(p_gateway text, p_msisdn text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.citizen SET opted_out = true, updated_at = now()
	 WHERE msisdn = p_msisdn;
	RETURN pakn.reply(p_gateway, p_msisdn, 'stopped', '{}', NULL, p_inbound);
END;
$$;

-- Claim due messages for sending (several paknd may share the outbox). A
-- message whose lease ran out (its sender died) is claimed again.
CREATE FUNCTION pakn.outbox_claim(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, gateway text, msisdn text, body text,
	attempts integer)
LANGUAGE sql AS $$
	UPDATE pakn.outbox o
	   SET state = 'sending', attempts = o.attempts + 1,
	       lease_until = now() + make_interval(secs => p_lease_seconds)
	 WHERE o.id IN (
		SELECT q.id FROM pakn.outbox q
		 WHERE q.state IN ('queued', 'sending')
		   AND CASE q.state WHEN 'queued' THEN q.next_attempt_at <= now()
			ELSE q.lease_until < now() END
		 ORDER BY q.next_attempt_at, q.id
		 LIMIT p_limit
		   FOR UPDATE SKIP LOCKED)
	RETURNING o.id, o.gateway, o.msisdn, o.body, o.attempts
$$;

-- Record a send attempt: 'sent', 'retry' (backoff with jitter, 'failed'
-- after p_max_attempts) or 'failed' (permanent).
CREATE FUNCTION pakn.outbox_result(p_id bigint, p_outcome text,
	p_gateway_ref text, p_error text, p_segments integer, p_encoding text,
	p_max_attempts integer, p_retry_base double precision)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.outbox;
BEGIN
	SELECT * INTO o FROM pakn.outbox WHERE id = p_id FOR UPDATE;
	-- A delivery report may commit before our own 'sent' (Kannel's fake
	-- SMSC reports at once): keep its state, record what we know.
	IF o.state IN ('delivered', 'undelivered') AND p_outcome = 'sent' THEN
		UPDATE pakn.outbox SET sent_at = coalesce(sent_at, now()),
			gateway_ref = coalesce(gateway_ref, p_gateway_ref),
			segments = p_segments, encoding = p_encoding,
			lease_until = NULL
		 WHERE id = p_id;
		RETURN o.state;
	END IF;
	IF o.id IS NULL OR o.state <> 'sending' THEN
		RETURN coalesce(o.state, 'missing');
	END IF;
	IF p_outcome = 'sent' THEN
		UPDATE pakn.outbox SET state = 'sent', sent_at = now(),
			gateway_ref = p_gateway_ref, segments = p_segments,
			encoding = p_encoding, lease_until = NULL, last_error = NULL
		 WHERE id = p_id;
		RETURN 'sent';
	ELSIF p_outcome = 'retry' AND o.attempts < p_max_attempts THEN
		UPDATE pakn.outbox SET state = 'queued', lease_until = NULL,
			last_error = p_error,
			next_attempt_at = now() + make_interval(secs =>
				least(3600, p_retry_base * 2 ^ (o.attempts - 1))
				* (0.5 + random()))
		 WHERE id = p_id;
		RETURN 'queued';
	END IF;
	UPDATE pakn.outbox SET state = 'failed', lease_until = NULL,
		last_error = p_error
	 WHERE id = p_id;
	RETURN 'failed';
END;
$$;

-- A delivery report: by our outbox id (Kannel's dlr-url carries it) or by
-- the gateway's reference. p_status: delivered, undelivered, or anything
-- else (accepted, queued, buffered: no change). Returns rows updated.
CREATE FUNCTION pakn.outbox_dlr(p_gateway text, p_id bigint, p_ref text,
	p_status text, p_detail text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	IF p_status NOT IN ('delivered', 'undelivered') THEN
		RETURN 0;
	END IF;
	UPDATE pakn.outbox o SET state = p_status,
		delivered_at = CASE WHEN p_status = 'delivered' THEN now() END,
		last_error = CASE WHEN p_status = 'undelivered' THEN p_detail
			ELSE o.last_error END
	 WHERE o.gateway = p_gateway
	   AND (o.id = p_id OR (p_id IS NULL AND o.gateway_ref = p_ref))
	   AND o.state IN ('sending', 'sent', 'delivered', 'undelivered');
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
