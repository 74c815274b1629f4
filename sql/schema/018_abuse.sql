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
