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

-- Tickets: 6 symbols of an alphabet without 0/O/1/I/L, from a scrambled
-- sequence (so tickets are not guessable in order), and a check symbol c
-- making the weighted sum (position i weighs i) of all 7 symbol indexes 0
-- mod 31: every single mistyped symbol and every swap of two symbols is
-- detected (daemon/ticket.c checks tickets the same way).
CREATE SEQUENCE pakn.ticket_seq;

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
