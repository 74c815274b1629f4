-- 016: legal clocks and the apology with a new date (issue 13).
--
-- Complaints (Law on Complaints 2011) and denunciations (Law on
-- Denunciations 2018) run on the clocks of their laws: an acceptance step
-- (thụ lý) due a number of days after receipt, then resolution counted
-- from acceptance in calendar days, a period whose last day is a day off
-- ending on the next working day (Civil Code 2015, art. 147 and 148(5)).
-- A complex complaint, or one from a remote and disadvantaged area, gets
-- the law's longer period; a denunciation may be extended twice; the
-- clock may be suspended and resumed where the law allows it. The rules
-- are data (pakn.legal_rule), dated by effective date: a complaint takes
-- the rule in force on the day it was received.
--
-- Other feedback (phản ánh, kiến nghị) has no statutory deadline: its
-- per-category deadlines (pakn.category.deadline_days, in working days)
-- are local policy and do not change here.
--
-- The apology, as the one-stop shop's slip ("Phiếu xin lỗi và hẹn lại
-- ngày trả kết quả", Decree 61/2018/NĐ-CP and its form in Circular
-- 01/2018/TT-VPCP; the one-stop shop is now under Decree 118/2025/NĐ-CP):
-- the responsible unit states the reason and sets a new date, within a
-- bound (pakn.category.apology_max_days working days). The deadline
-- worker no longer invents a date: at the deadline it escalates, asks the
-- unit for the apology and tells the citizen; when a new date passes
-- unanswered it reminds the unit and escalates again, once per date.

-------------------------------------------------------------------------
-- The rules
-------------------------------------------------------------------------

CREATE TABLE pakn.legal_rule (
	id                  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	law                 text NOT NULL CHECK (law IN ('complaint',
				'denunciation')),
	valid_from          date NOT NULL,
	valid_until         date CHECK (valid_until > valid_from),
	accept_days         integer NOT NULL CHECK (accept_days BETWEEN 1 AND 60),
	accept_working      boolean NOT NULL,
	resolve_days        integer NOT NULL CHECK (resolve_days BETWEEN 1 AND 365),
	complex_days        integer CHECK (complex_days BETWEEN 1 AND 365),
	remote_days         integer CHECK (remote_days BETWEEN 1 AND 365),
	remote_complex_days integer CHECK (remote_complex_days BETWEEN 1 AND 365),
	extension_days      integer NOT NULL DEFAULT 0 CHECK (extension_days >= 0),
	max_extensions      integer NOT NULL DEFAULT 0
				CHECK (max_extensions BETWEEN 0 AND 5),
	suspension          boolean NOT NULL,
	name                text NOT NULL CHECK (name <> ''),
	source              text NOT NULL CHECK (source <> ''),
	note                text,
	UNIQUE (law, valid_from)
);
COMMENT ON TABLE pakn.legal_rule IS
	'statutory clocks of complaints and denunciations, per law and effective date; days are calendar days unless accept_working';

-- Law on Complaints 02/2011/QH13 (in force 1 July 2012): art. 27, the
-- first-time complaint is accepted (thụ lý) within 10 days of receipt;
-- art. 28, resolved within 30 days of acceptance, 45 for a complex case;
-- in remote areas where travel is difficult (vùng sâu, vùng xa đi lại
-- khó khăn) 45, and 60 for a complex case. No extension; no suspension of
-- the resolution (art. 35 suspends the contested decision, not the clock).
--
-- Law on Denunciations 25/2018/QH14 (in force 1 January 2019): art. 24(1),
-- a denunciation is registered, checked and accepted or refused within 7
-- working days of receipt (10 working days when the denouncer's identity
-- or several recipients must be checked); art. 30, resolved within 30
-- days of acceptance, extendable once by 30 days for a complex case and
-- twice, 30 days each, for a very complex one; art. 36, resolution is
-- suspended while waiting for another body's result or an expert
-- examination, and the suspended time does not count.
--
-- Law 136/2025/QH15 (adopted 10 December 2025, in force 1 July 2026)
-- amends both laws. Its text was not available when these rows were
-- written; the summaries read (see DESIGN.md) say that a withdrawn
-- complaint is not reconsidered unless the citizen was coerced, that the
-- resolution of a complaint can be suspended while a related matter is
-- decided (the clock pauses and resumes), that citizens may be received
-- online and that the denouncer's identity is protected. They mention NO
-- change to the time limits: the rows from 1 July 2026 keep the limits
-- above and differ only in allowing a complaint's clock to be suspended.
-- When the text shows other limits, close these rows (valid_until) and
-- add new ones; complaints received before keep their rule.
INSERT INTO pakn.legal_rule (law, valid_from, valid_until, accept_days,
	accept_working, resolve_days, complex_days, remote_days,
	remote_complex_days, extension_days, max_extensions, suspension, name,
	source, note) VALUES
	('complaint', '2012-07-01', '2026-07-01', 10, false, 30, 45, 45, 60,
		0, 0, false, 'Luật Khiếu nại 2011',
		'Luật Khiếu nại 02/2011/QH13, Điều 27 (thụ lý: 10 ngày kể từ ngày nhận), Điều 28 (giải quyết lần đầu: 30 ngày kể từ ngày thụ lý, phức tạp 45; vùng sâu, vùng xa 45, phức tạp 60)',
		'no extension; no suspension of the resolution before Law 136/2025/QH15'),
	('complaint', '2026-07-01', NULL, 10, false, 30, 45, 45, 60,
		0, 0, true, 'Luật Khiếu nại 2011, sửa đổi bởi Luật 136/2025/QH15',
		'Luật Khiếu nại 02/2011/QH13, Điều 27, 28, sửa đổi, bổ sung bởi Luật 136/2025/QH15 (hiệu lực 1/7/2026: tạm đình chỉ giải quyết khi chờ kết quả vụ việc liên quan)',
		'Law 136/2025/QH15: the summaries read mention no change to the time limits (its text was not available); the clock may be suspended and resumed'),
	('denunciation', '2019-01-01', '2026-07-01', 7, true, 30, NULL, NULL,
		NULL, 30, 2, true, 'Luật Tố cáo 2018',
		'Luật Tố cáo 25/2018/QH14, Điều 24 khoản 1 (xử lý ban đầu, thụ lý: 7 ngày làm việc), Điều 30 (giải quyết: 30 ngày kể từ ngày thụ lý, gia hạn tối đa 2 lần, mỗi lần 30 ngày), Điều 36 (tạm đình chỉ: thời gian tạm đình chỉ không tính vào thời hạn)',
		NULL),
	('denunciation', '2026-07-01', NULL, 7, true, 30, NULL, NULL,
		NULL, 30, 2, true, 'Luật Tố cáo 2018, sửa đổi bởi Luật 136/2025/QH15',
		'Luật Tố cáo 25/2018/QH14, Điều 24, 30, 36, sửa đổi, bổ sung bởi Luật 136/2025/QH15 (hiệu lực 1/7/2026: bảo vệ danh tính người tố cáo)',
		'Law 136/2025/QH15: the summaries read mention no change to the time limits (its text was not available)');

-- Which law a category follows: NULL for feedback (phản ánh, kiến nghị),
-- whose deadline_days are local policy in working days.
ALTER TABLE pakn.category
	ADD COLUMN law text CHECK (law IN ('complaint', 'denunciation')),
	ADD COLUMN apology_max_days integer NOT NULL DEFAULT 5
		CHECK (apology_max_days BETWEEN 1 AND 60);
COMMENT ON COLUMN pakn.category.law IS
	'complaint (Law on Complaints 2011) or denunciation (Law on Denunciations 2018): the statutory clock of pakn.legal_rule; NULL: feedback, whose deadline_days are local policy';
COMMENT ON COLUMN pakn.category.deadline_days IS
	'local policy for feedback (phản ánh, kiến nghị: no statutory deadline), in working days unless working_days is false; categories with a law use pakn.legal_rule instead';
COMMENT ON COLUMN pakn.category.apology_max_days IS
	'an apology''s new date is at most this many working days after the missed date (or today, when later)';

-- Complaints against administrative decisions and acts (khiếu nại), the
-- land ones apart (decisions on land recovery, compensation, titles:
-- most complaints in Việt Nam); denunciations (tố cáo) of officials'
-- violations, and reports of corruption, which are denunciations.
-- A dispute between neighbours over land (tranh chấp đất đai) is not a
-- complaint: the Land Law 2024 (31/2024/QH15, art. 235-236) has it
-- mediated by the commune and then decided; it stays feedback here
-- (land_certificate). Keywords need "khiếu nại" or "tố cáo" in a phrase,
-- so no message of the classification corpus changes category.
INSERT INTO pakn.category (code, name, dimension, keywords, sensitive,
	deadline_days, working_days, law) VALUES
	('land_complaint', 'Khiếu nại về đất đai', 3,
		'{khiếu nại về đất,khiếu nại đất đai,khiếu nại thu hồi đất,khiếu nại quyết định thu hồi đất,khiếu nại việc thu hồi đất,khiếu nại đền bù,khiếu nại bồi thường,khiếu nại giá đền bù,khiếu nại tái định cư,khiếu nại sổ đỏ,khiếu nại cấp sổ đỏ,khiếu nại giấy chứng nhận,khiếu nại cưỡng chế,khiếu nại tranh chấp đất}',
		false, 30, false, 'complaint'),
	('decision_complaint', 'Khiếu nại quyết định, hành vi hành chính', 3,
		'{khiếu nại,đơn khiếu nại,khiếu nại quyết định,khiếu nại hành vi,khiếu nại cán bộ,khiếu nại chủ tịch,khiếu nại xử phạt}',
		false, 30, false, 'complaint'),
	('denunciation', 'Tố cáo vi phạm của cán bộ, công chức', 3,
		'{đơn tố cáo,tôi tố cáo,xin tố cáo,muốn tố cáo,tố cáo cán bộ,tố cáo công chức,tố cáo chủ tịch,tố cáo phó chủ tịch,tố cáo trưởng thôn,tố cáo công an,tố cáo hành vi,tố cáo việc,tố cáo ông,tố cáo bà}',
		true, 30, false, 'denunciation')
ON CONFLICT (code) DO NOTHING;
UPDATE pakn.category SET law = 'denunciation', working_days = false,
	deadline_days = 30
 WHERE code = 'corruption';

-- Remote and disadvantaged areas (vùng sâu, vùng xa đi lại khó khăn, Law
-- on Complaints art. 28): set per unit by `paknctl import-units` (column
-- remote).
ALTER TABLE pakn.unit ADD COLUMN remote boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pakn.unit.remote IS
	'a remote and disadvantaged area (vùng sâu, vùng xa): complaints resolved there get the Law on Complaints'' longer periods (art. 28)';

-------------------------------------------------------------------------
-- A complaint's clock
-------------------------------------------------------------------------

ALTER TABLE pakn.complaint
	ADD COLUMN accepted_on    date,
	ADD COLUMN complex        boolean NOT NULL DEFAULT false,
	ADD COLUMN remote         boolean NOT NULL DEFAULT false,
	ADD COLUMN extensions     integer NOT NULL DEFAULT 0,
	ADD COLUMN suspended_on   date,
	ADD COLUMN suspended_days integer NOT NULL DEFAULT 0,
	ADD COLUMN apology_reason text,
	ADD COLUMN reminded_for   timestamptz,
	ADD COLUMN escalated_for  timestamptz;
COMMENT ON COLUMN pakn.complaint.accepted_on IS
	'the date of the acceptance decision (thụ lý); the resolution clock counts from it';
COMMENT ON COLUMN pakn.complaint.reminded_for IS
	'the due moment (due_at, or new_due_at after an apology) the unit was reminded of';
COMMENT ON COLUMN pakn.complaint.escalated_for IS
	'the due moment whose passing was escalated: one escalation per date';
-- What the deadline worker looks at: the date promised last.
CREATE INDEX complaint_checkpoint_idx
	ON pakn.complaint ((coalesce(new_due_at, due_at)))
	WHERE status = 'open';
-- Work done before this migration is not done again.
UPDATE pakn.complaint SET reminded_for = due_at WHERE reminded_at IS NOT NULL;
UPDATE pakn.complaint SET escalated_for = due_at WHERE escalated_at IS NOT NULL;

-- A reopened complaint under a law starts again from acceptance (its
-- due_at is the acceptance due, pakn.due_at); its clock is reset.
CREATE FUNCTION pakn.complaint_clock_reset() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.accepted_on := NULL;
	NEW.complex := false;
	NEW.remote := false;
	NEW.extensions := 0;
	NEW.suspended_on := NULL;
	NEW.suspended_days := 0;
	NEW.apology_reason := NULL;
	NEW.reminded_for := NULL;
	NEW.escalated_for := NULL;
	RETURN NEW;
END;
$$;
CREATE TRIGGER complaint_clock_reset BEFORE UPDATE OF reopen_count
	ON pakn.complaint FOR EACH ROW
	WHEN (NEW.reopen_count > OLD.reopen_count)
	EXECUTE FUNCTION pakn.complaint_clock_reset();

-- The citizen's ack and status say what the date is ("Hạn thụ lý" for a
-- complaint under a law until it is accepted); feedback reads as before.
UPDATE pakn.template SET body = replace(body, 'Hạn trả lời: {due}', '{due_label}: {due}')
 WHERE code IN ('ack', 'ack_nokeyword', 'status', 'transferred')
   AND body LIKE '%Hạn trả lời: {due}%';
UPDATE pakn.template SET body = replace(body, ', hạn {due}', ', {due_short} {due}')
 WHERE code IN ('new_complaint', 'new_complaint_fallback')
   AND body LIKE '%, hạn {due}%';
UPDATE pakn.template SET body = replace(body, 'hạn trả lời {due}', '{due_kind} {due}')
 WHERE code = 'reminder' AND body LIKE '%hạn trả lời {due}%';
UPDATE pakn.template SET body = 'Xin lỗi bạn: phản ánh {ticket} không được trả lời đúng hạn {due}. Lý do: {reason}. Ngày hẹn mới: {new_due}. Tra cứu: TT {ticket}',
	description = 'the responsible unit''s apology to the citizen: the reason and a new date (as the one-stop shop''s apology slip)'
 WHERE code = 'apology'
   AND body = 'Xin lỗi bạn: phản ánh {ticket} chưa được trả lời đúng hạn {due}. Ngày hẹn mới: {new_due}. Tra cứu: TT {ticket}';
INSERT INTO pakn.template (code, body, description) VALUES
	('accepted', 'Đơn {ticket} ({category}) đã được {unit} thụ lý ngày {accepted}. Hạn giải quyết: {due} (theo {law}). Tra cứu: TT {ticket}',
		'to the citizen: the complaint or denunciation was accepted; the resolution clock runs'),
	('official_accepted', 'Đã ghi nhận thụ lý {ticket} ngày {accepted}. Hạn giải quyết: {due}{due_note}.',
		'to an official who accepted a complaint by SMS'),
	('clock_changed', 'Đơn {ticket}: {why}. Hạn giải quyết mới: {due}. Tra cứu: TT {ticket}',
		'to the citizen: the resolution period changed (complex case, extension, resumed)'),
	('suspended', 'Việc giải quyết đơn {ticket} tạm dừng từ ngày {since}: {reason}. Thời gian tạm dừng không tính vào thời hạn giải quyết; bạn sẽ được báo khi tiếp tục.',
		'to the citizen: the resolution was suspended (the clock pauses)'),
	('official_apologized', 'Đã gửi lời xin lỗi và ngày hẹn mới {new_due} của phản ánh {ticket} tới người dân.',
		'to an official who apologised by SMS'),
	('apology_due', 'Quá hạn {first_due}: phản ánh {ticket} ({category}). Gửi người dân lời xin lỗi, lý do và ngày hẹn mới: HEN {ticket} <ngày/tháng> <lý do>',
		'to the unit''s officers when a deadline passed: send the apology'),
	('overdue_notice', 'Phản ánh {ticket} đã quá {due_kind} {due}. Đơn vị xử lý đã được nhắc và sẽ gửi bạn lời xin lỗi, lý do và ngày hẹn mới. Tra cứu: TT {ticket}',
		'to the citizen when a deadline passed without an apology'),
	('reminder_again', 'Quá ngày hẹn: phản ánh {ticket} ({category}) đã hẹn người dân ngày {new_due} nhưng chưa trả lời. Trả lời: TL {ticket} <nội dung>',
		'to the unit''s officers when an apology''s new date passed'),
	('escalation_again', 'Quá ngày hẹn: phản ánh {ticket} ({category}) giao {unit}, hạn {first_due}, đã hẹn lại ngày {new_due} ({reason}) vẫn chưa được trả lời.',
		'to the unit''s leaders and the parent unit when an apology''s new date passed'),
	('overdue_again', 'Phản ánh {ticket} vẫn chưa được trả lời vào ngày hẹn {new_due}. Lãnh đạo {unit} và cấp trên đã được báo. Tra cứu: TT {ticket}',
		'to the citizen when an apology''s new date passed');
UPDATE pakn.template SET body = replace(body, 'Hạn trả lời mới: {due}', '{due_label} mới: {due}')
 WHERE code = 'extended' AND body LIKE '%Hạn trả lời mới: {due}%';
