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
