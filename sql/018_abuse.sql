-- 018: abuse and cost; officials and leaders by SMS (issue 14).
--
-- Abuse: per-phone limits (complaints per hour and per day, replies per
-- day; paknd passes them from [abuse]), a ban list with its own ledger,
-- the same text repeated by one phone within a window (auto-responders,
-- loops): such a message is stored, flagged in inbound_message.abuse_flag
-- and not acted on; over a limit the phone gets one SMS a day saying so,
-- then silence. Officials' and units' phones have no limits. STOP can be
-- undone (START, DANG KY LAI). A USSD rating of a service replaces the
-- phone's earlier rating of that service and unit in the same month.
--
-- Officials by SMS: DS [page] (the open queue), XEM <ticket>, GH <ticket>
-- <days> <reason> (extend once), TC <ticket> <reason> (not within our
-- competence: back to the unit it came from, or to the province's desk).
-- An answer longer than [sms] max_answer_parts is refused (counted by
-- paknd, daemon/sms.c).
--
-- Leaders: a summary SMS every Monday 07:30 and on the reporting cut-off
-- day, claimed once per leader and period (pakn.summary_claim), so two
-- paknd send it once; BC TAT / BC BAT turn it off and on.
--
-- Entry point: pakn.handle_inbound_checked wraps pakn.handle_inbound
-- (012) with the checks; pakn.handle_sms (020) gets the new commands.

-------------------------------------------------------------------------
-- Abuse: flags, bans, limits
-------------------------------------------------------------------------

ALTER TABLE pakn.inbound_message ADD COLUMN abuse_flag text;
COMMENT ON COLUMN pakn.inbound_message.abuse_flag IS
	'why the message was stored but not acted on: banned, repeated, '
	'limit_hour, limit_day, limit_replies; NULL when it was handled';
CREATE INDEX inbound_message_abuse_idx ON pakn.inbound_message (msisdn)
	WHERE abuse_flag IS NOT NULL;
-- Replies per phone and day are counted on every inbound message.
CREATE INDEX outbox_msisdn_idx ON pakn.outbox (msisdn, created_at);

-- Phones whose messages are stored and never answered.
CREATE TABLE pakn.ban (
	msisdn    text PRIMARY KEY,
	reason    text NOT NULL CHECK (reason <> ''),
	banned_by text NOT NULL,
	banned_at timestamptz NOT NULL DEFAULT now()
);

-- Every ban and unban: who, when, why. Append-only.
CREATE TABLE pakn.ban_event (
	id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	msisdn text NOT NULL,
	action text NOT NULL CHECK (action IN ('ban', 'unban')),
	reason text,
	actor  text NOT NULL,
	at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ban_event_msisdn_idx ON pakn.ban_event (msisdn, id);

-- Refuse to change or delete the rows of an append-only table.
CREATE FUNCTION pakn.append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'pakn.% is append-only (% refused)', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER ban_event_append_only BEFORE UPDATE OR DELETE
	ON pakn.ban_event FOR EACH ROW EXECUTE FUNCTION pakn.append_only();
CREATE TRIGGER ban_event_no_truncate BEFORE TRUNCATE ON pakn.ban_event
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.append_only();

-- Ban a phone (paknctl ban), ledgered. Returns false when it was banned
-- already (the reason is then updated, and ledgered too).
CREATE FUNCTION pakn.ban_add(p_msisdn text, p_reason text, p_actor text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_new boolean;
BEGIN
	INSERT INTO pakn.ban AS b (msisdn, reason, banned_by)
	VALUES (p_msisdn, p_reason, p_actor)
	ON CONFLICT (msisdn) DO UPDATE SET reason = excluded.reason
	RETURNING (b.xmax = 0) INTO v_new;
	INSERT INTO pakn.ban_event (msisdn, action, reason, actor)
	VALUES (p_msisdn, 'ban', p_reason, p_actor);
	RETURN v_new;
END;
$$;

-- Lift a ban (paknctl unban), ledgered. Returns false when there was none.
CREATE FUNCTION pakn.ban_lift(p_msisdn text, p_reason text, p_actor text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM pakn.ban WHERE msisdn = p_msisdn;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO pakn.ban_event (msisdn, action, reason, actor)
	VALUES (p_msisdn, 'unban', p_reason, p_actor);
	RETURN true;
END;
$$;

-- Never queue an SMS to a banned phone: the row is kept, failed.
CREATE FUNCTION pakn.outbox_refuse_banned() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state = 'queued' AND EXISTS (SELECT 1 FROM pakn.ban b
			WHERE b.msisdn = NEW.msisdn) THEN
		NEW.state := 'failed';
		NEW.last_error := 'refused: the number is banned';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER outbox_refuse_banned BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse_banned();

INSERT INTO pakn.template (code, body, description) VALUES
	('limit_notice', 'Số điện thoại này đã gửi quá {limit}. Tin nhắn gửi thêm vẫn được lưu lại nhưng sẽ không được trả lời; xin gửi lại sau {after}.',
		'once a day, the first message over a per-phone limit'),
	('restarted', 'Đã đăng ký nhận lại tin nhắn từ tổng đài phản ánh. Hướng dẫn: HD',
		'START / DANG KY LAI after TU CHOI');

-- The local midnight that started today (Asia/Ho_Chi_Minh).
CREATE FUNCTION pakn.local_midnight(t timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT pakn.local_date(t)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

-- Is this the phone of an active official or of a unit? They have no
-- limits: officials text many commands and get many notices.
CREATE FUNCTION pakn.abuse_exempt(p_msisdn text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT (pakn.official_by_phone(p_msisdn)).id IS NOT NULL
	    OR pakn.official_unit(p_msisdn) IS NOT NULL
$$;

-- A limit of p_limits (0 or missing: none).
CREATE FUNCTION pakn.abuse_limit(p_limits jsonb, p_key text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(nullif((p_limits->>p_key)::integer, 0), 2147483647)
$$;

-- Is the same text (trimmed, any case) from this phone already stored
-- within the last p_window seconds (an auto-responder, a loop, a resend)?
CREATE FUNCTION pakn.abuse_repeated(p_gateway text, p_msg_id text,
	p_msisdn text, p_body text, p_window integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce(p_window, 0) > 0 AND btrim(p_body) <> ''
	   AND EXISTS (SELECT 1 FROM pakn.inbound_message m
		WHERE m.msisdn = p_msisdn
		  AND m.received_at > now() - make_interval(secs => p_window)
		  AND lower(btrim(m.body)) = lower(btrim(p_body))
		  AND NOT (m.gateway = p_gateway AND m.gateway_msg_id = p_msg_id))
$$;

-- Why a message must be stored without being acted on, or NULL: the
-- phone is banned; the same text again (but STOP and START always
-- count); over the replies of the day; a new complaint over the hour's or
-- the day's limit.
CREATE FUNCTION pakn.abuse_check(p_gateway text, p_msg_id text,
	p_msisdn text, p_body text, p_kind text, p_keyword boolean,
	p_limits jsonb)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM pakn.ban b WHERE b.msisdn = p_msisdn) THEN
		RETURN 'banned';
	ELSIF pakn.abuse_exempt(p_msisdn) THEN
		RETURN NULL;
	ELSIF p_kind NOT IN ('stop', 'start')
			AND pakn.abuse_repeated(p_gateway, p_msg_id, p_msisdn, p_body,
				(p_limits->>'repeat_window')::integer) THEN
		RETURN 'repeated';
	ELSIF (SELECT count(*) FROM pakn.outbox o WHERE o.msisdn = p_msisdn
		  AND o.created_at >= pakn.local_midnight(now()))
		  >= pakn.abuse_limit(p_limits, 'replies_per_day') THEN
		RETURN 'limit_replies';
	ELSIF p_kind <> 'complaint' OR NOT (p_keyword
			OR pakn.pending_location(p_msisdn) IS NULL) THEN
		RETURN NULL;
	ELSIF (SELECT count(*) FROM pakn.complaint c WHERE c.msisdn = p_msisdn
		  AND c.created_at > now() - interval '1 hour')
		  >= pakn.abuse_limit(p_limits, 'complaints_per_hour') THEN
		RETURN 'limit_hour';
	ELSIF (SELECT count(*) FROM pakn.complaint c WHERE c.msisdn = p_msisdn
		  AND c.created_at >= pakn.local_midnight(now()))
		  >= pakn.abuse_limit(p_limits, 'complaints_per_day') THEN
		RETURN 'limit_day';
	END IF;
	RETURN NULL;
END;
$$;

-- The one SMS a day that tells a phone it went over a limit (none for a
-- ban or a repeat). Returns the number queued.
CREATE FUNCTION pakn.abuse_notice(p_gateway text, p_msisdn text,
	p_flag text, p_limits jsonb, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	IF p_flag NOT LIKE 'limit_%' OR EXISTS (SELECT 1 FROM pakn.outbox o
			WHERE o.msisdn = p_msisdn AND o.kind = 'limit_notice'
			  AND o.created_at >= pakn.local_midnight(now())) THEN
		RETURN 0;
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'limit_notice', CASE p_flag
		WHEN 'limit_hour' THEN jsonb_build_object('limit', format(
			'%s phản ánh trong một giờ', p_limits->>'complaints_per_hour'),
			'after', 'một giờ')
		WHEN 'limit_day' THEN jsonb_build_object('limit', format(
			'%s phản ánh trong ngày', p_limits->>'complaints_per_day'),
			'after', 'nửa đêm')
		ELSE jsonb_build_object('limit', format('%s tin trả lời trong ngày',
			p_limits->>'replies_per_day'), 'after', 'nửa đêm') END,
		NULL, p_inbound);
END;
$$;

-- Why an official's TL must be refused for its length, or NULL: paknd
-- counts the parts the answer needs (answer_parts) against [sms]
-- max_answer_parts (answer_max). Others' TL is refused by handle_sms.
CREATE FUNCTION pakn.answer_too_long(p_msisdn text, p_limits jsonb)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format('câu trả lời cần %s tin nhắn, quá giới hạn %s tin '
		'(max_answer_parts); xin rút gọn rồi gửi lại.',
		p_limits->>'answer_parts', p_limits->>'answer_max')
	 WHERE (p_limits->>'answer_parts')::integer
		> pakn.abuse_limit(p_limits, 'answer_max')
	   AND pakn.abuse_exempt(p_msisdn)
$$;

-- One inbound SMS with the abuse checks: a message from a banned phone,
-- repeated, or over a limit is stored, flagged and not acted on (one
-- notice a day for a limit); an official's answer over the length limit
-- is stored and refused; anything else goes to pakn.handle_inbound (012).
-- p_limits: complaints_per_hour, complaints_per_day, replies_per_day,
-- repeat_window (seconds), answer_max, answer_parts (0: no limit).
CREATE FUNCTION pakn.handle_inbound_checked(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text, p_sender_flag text,
	p_text_cut boolean, p_limits jsonb,
	OUT message_id bigint, OUT duplicate boolean, OUT replies integer,
	OUT sender_flag text, OUT abuse_flag text)
LANGUAGE plpgsql AS $$
DECLARE
	v_abuse text;
	v_refuse text;
BEGIN
	IF p_sender_flag IS NULL AND NOT EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = p_msisdn) THEN
		-- One message of a phone at a time, so the counts are exact.
		INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
		ON CONFLICT (msisdn) DO NOTHING;
		PERFORM 1 FROM pakn.citizen c WHERE c.msisdn = p_msisdn
		   FOR NO KEY UPDATE;
		v_abuse := pakn.abuse_check(p_gateway, p_msg_id, p_msisdn, p_body,
			p_kind, p_keyword, p_limits);
		IF v_abuse IS NULL AND p_kind = 'answer' THEN
			v_refuse := pakn.answer_too_long(p_msisdn, p_limits);
		END IF;
	END IF;
	IF v_abuse IS NULL AND v_refuse IS NULL THEN
		SELECT h.message_id, h.duplicate, h.replies, h.sender_flag
		  INTO message_id, duplicate, replies, sender_flag
		  FROM pakn.handle_inbound(p_gateway, p_msg_id, p_msisdn,
			p_shortcode, p_body, p_sent_at, p_segments, p_smsc,
			p_raw_request, p_raw_body, p_kind, p_keyword, p_ticket,
			p_ticket_ok, p_unit, p_rating, p_text, p_sender_flag,
			p_text_cut) h;
		RETURN;
	END IF;
	SELECT i.message_id, i.duplicate INTO message_id, duplicate
	  FROM pakn.ingest_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
		p_raw_body) i;
	replies := 0;
	IF duplicate THEN
		RETURN;
	END IF;
	UPDATE pakn.inbound_message m SET abuse_flag = v_abuse,
		text_cut = p_text_cut
	 WHERE m.id = message_id;
	IF v_refuse IS NOT NULL THEN
		replies := pakn.official_refuse(p_gateway, p_msisdn, v_refuse,
			message_id);
		RETURN;
	END IF;
	abuse_flag := v_abuse;
	replies := pakn.abuse_notice(p_gateway, p_msisdn, v_abuse, p_limits,
		message_id);
END;
$$;

-- START / DANG KY LAI: messages again after TU CHOI.
CREATE FUNCTION pakn.sms_start(p_gateway text, p_msisdn text,
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

-------------------------------------------------------------------------
-- USSD ratings of a service: one per phone, unit, service and month
-------------------------------------------------------------------------

-- The earlier scores a re-rating replaced, for audit.
CREATE TABLE pakn.rating_replaced (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rating_id   bigint NOT NULL REFERENCES pakn.rating (id),
	score       smallint NOT NULL,
	at          timestamptz NOT NULL,
	replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rating_service_idx ON pakn.rating (msisdn, unit_code, service, at)
	WHERE service IS NOT NULL;

-- A rating of a service by a phone that already rated this unit's
-- service this month (local) replaces that rating: the row takes the new
-- score and time (the old ones go to pakn.rating_replaced) and no row is
-- added, so the statistics count one rating (see rating_restat).
CREATE FUNCTION pakn.rating_replace() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_old pakn.rating;
BEGIN
	IF NEW.service IS NULL OR NEW.complaint_id IS NOT NULL THEN
		RETURN NEW;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('rating:' || NEW.msisdn));
	SELECT * INTO v_old FROM pakn.rating r
	 WHERE r.msisdn = NEW.msisdn AND r.unit_code = NEW.unit_code
	   AND r.service = NEW.service AND r.complaint_id IS NULL
	   AND date_trunc('month', pakn.local_date(r.at))
		= date_trunc('month', pakn.local_date(now()))
	 ORDER BY r.id DESC LIMIT 1 FOR UPDATE;
	IF v_old.id IS NULL THEN
		RETURN NEW;
	END IF;
	INSERT INTO pakn.rating_replaced (rating_id, score, at)
	VALUES (v_old.id, v_old.score, v_old.at);
	UPDATE pakn.rating SET score = NEW.score, at = now(),
		inbound_id = NEW.inbound_id
	 WHERE id = v_old.id;
	RETURN NULL;
END;
$$;
CREATE TRIGGER rating_replace BEFORE INSERT ON pakn.rating
	FOR EACH ROW EXECUTE FUNCTION pakn.rating_replace();

-- A replaced score leaves the statistics and the new one enters them.
CREATE FUNCTION pakn.rating_restat() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r pakn.stat_delta;
BEGIN
	SELECT * INTO r FROM pakn.stat_of_rating(OLD);
	r.ratings := -1;
	r.rating_sum := -OLD.score;
	r.satisfied := -(OLD.score >= 4)::integer;
	PERFORM pakn.stat_append(r);
	PERFORM pakn.stat_append(d) FROM pakn.stat_of_rating(NEW) d;
	RETURN NULL;
END;
$$;
CREATE TRIGGER rating_restat AFTER UPDATE OF score, at ON pakn.rating
	FOR EACH ROW EXECUTE FUNCTION pakn.rating_restat();

-------------------------------------------------------------------------
-- Officials by SMS: DS, XEM, GH, TC
-------------------------------------------------------------------------

INSERT INTO pakn.template (code, body, description) VALUES
	('official_list', 'DS {unit} ({open} mở, {overdue} quá hạn) trang {page}/{pages}: {items}{more}',
		'DS: a page of the official''s open queue, overdue first (QH: overdue)'),
	('official_list_empty', 'DS {unit}: không có phản ánh nào đang mở.',
		'DS: nothing open'),
	('official_show', '{ticket} ({category}) {status}, hạn {due}{overdue}: {text}. Lịch sử: {history}',
		'XEM: a complaint and its history in short'),
	('official_extended', 'Đã gia hạn phản ánh {ticket} thêm {days} ngày, hạn mới {due}. Người dân đã được báo.',
		'GH: the deadline was extended'),
	('official_returned', 'Đã trả phản ánh {ticket} về {unit} để chuyển đúng nơi xử lý.',
		'TC: the complaint went back to the unit it came from or the province''s desk'),
	('official_rejected', 'Đã từ chối phản ánh {ticket}: không thuộc thẩm quyền. Người dân đã được báo lý do.',
		'TC at the top of the tree: the complaint is closed as not within competence'),
	('returned', 'Phản ánh {ticket} không thuộc thẩm quyền của {from_unit} ({reason}); đã chuyển về {unit} để chuyển đúng nơi xử lý. Hạn trả lời: {due}.',
		'to the citizen: the complaint was sent back for forwarding');

-- The complaint an official's SMS command is about, or the refusal
-- queued: not an official's phone, a missing or mistyped ticket, or a
-- complaint that does not exist or is not the official's to act on (the
-- same words: nothing is revealed). p_open: it must be open.
CREATE FUNCTION pakn.official_ticket(p_gateway text, p_msisdn text,
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
CREATE FUNCTION pakn.official_queue_units(p_msisdn text) RETURNS SETOF text
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
CREATE FUNCTION pakn.sms_list(p_gateway text, p_msisdn text, p_page integer,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	k constant integer := 8;
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
	SELECT count(*), count(*) FILTER (WHERE c.due_at <= now())
	  INTO v_open, v_overdue
	  FROM pakn.complaint c
	 WHERE c.status = 'open'
	   AND c.responsible_unit IN (SELECT pakn.official_queue_units(p_msisdn));
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
	  FROM (SELECT * FROM pakn.complaint c
		 WHERE c.status = 'open' AND c.responsible_unit IN
			(SELECT pakn.official_queue_units(p_msisdn))
		 ORDER BY c.due_at <= now() DESC, c.due_at, c.id
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
CREATE FUNCTION pakn.event_short(e pakn.complaint_event) RETURNS text
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
CREATE FUNCTION pakn.sms_show(p_gateway text, p_msisdn text, p_ticket text,
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
CREATE FUNCTION pakn.sms_extend(p_gateway text, p_msisdn text,
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
CREATE FUNCTION pakn.return_target(c pakn.complaint) RETURNS text
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
CREATE FUNCTION pakn.sms_return(p_gateway text, p_msisdn text,
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

-------------------------------------------------------------------------
-- Leaders: the scheduled summary SMS
-------------------------------------------------------------------------

ALTER TABLE pakn.official ADD COLUMN summary_sms boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN pakn.official.summary_sms IS
	'a leader gets the weekly and monthly summary SMS (BC TAT / BC BAT)';

-- One row per leader and period whose summary was queued: the unique key
-- makes it once, however many paknd run the schedule.
CREATE TABLE pakn.summary_claim (
	official_id bigint NOT NULL REFERENCES pakn.official (id),
	period      text NOT NULL,
	claimed_at  timestamptz NOT NULL DEFAULT now(),
	sms         integer NOT NULL,
	PRIMARY KEY (official_id, period)
);
COMMENT ON COLUMN pakn.summary_claim.period IS
	'week YYYY-MM-DD (its Monday) or month YYYY-MM (the reporting period)';

INSERT INTO pakn.template (code, body, description) VALUES
	('summary', '{label} {unit}: nhận {received}, trả lời đúng hạn {on_time}/{answered} ({on_time_rate}), đang quá hạn {overdue}, hài lòng {satisfaction}. Yếu nhất: {worst}. Ngừng tin này: BC TAT',
		'the weekly and monthly summary to leaders'),
	('summary_off', 'Đã ngừng gửi tin tổng hợp tuần và tháng. Nhận lại: BC BAT',
		'BC TAT'),
	('summary_on', 'Sẽ gửi tin tổng hợp mỗi thứ Hai 7:30 và ngày chốt số liệu hằng tháng. Ngừng: BC TAT',
		'BC BAT');

-- BC TAT / BC BAT from a leader's phone: the summary off or on.
CREATE FUNCTION pakn.sms_summary(p_gateway text, p_msisdn text, p_on boolean,
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

-- The moment the schedule reads as now: the setting summary_now when a
-- test (or an operator replaying a missed run) sets it, else now().
CREATE FUNCTION pakn.summary_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT value::timestamptz FROM pakn.setting
			  WHERE name = 'summary_now'), now())
$$;

-- The periods whose summary is due at p_now (local time): the week, from
-- Monday 07:30, covering the week before; the reporting month, from its
-- cut-off day (p_cutoff; 0: the month's last day) at 07:30, covering the
-- period so far. A period is due for one day, so a paknd started later
-- does not send old news.
CREATE FUNCTION pakn.summary_due(p_now timestamptz, p_cutoff integer,
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
CREATE FUNCTION pakn.summary_worst(p_unit text, pr pakn.stat_range)
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
CREATE FUNCTION pakn.summary_send(o pakn.official, p_gateway text,
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
CREATE FUNCTION pakn.summary_run(p_gateway text, p_cutoff integer,
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

-------------------------------------------------------------------------
-- The dispatcher, with the new commands (as in 006 otherwise)
-------------------------------------------------------------------------

-- start, list, show, extend, return and summary are dispatched by
-- pakn.handle_sms, whose one definition with every command is in 020.

-- Say how to undo TU CHOI.
UPDATE pakn.template SET body = 'Đã ngừng gửi tin không cần thiết. Bạn vẫn nhận trả lời cho phản ánh của mình. Nhận lại tin: DANG KY LAI'
 WHERE code = 'stopped';

COMMENT ON COLUMN pakn.inbound_message.sender_flag IS
	'why the sender got no reply: own_number (one of our numbers: a loop), '
	'gateway_sender (a gateway''s own service, [gateway.NAME] '
	'loop_senders), short_code, too_short, too_long, bad_country_code, '
	'not_e164, vn_doubled_prefix, vn_unallocated; NULL for a subscriber''s '
	'number';
