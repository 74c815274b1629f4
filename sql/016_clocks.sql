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

-- The end of a period of n days from d (Civil Code 2015: art. 147, the
-- first day is not counted; art. 148(5), a period whose last day is a
-- weekend day or a holiday ends on the next working day).
CREATE FUNCTION pakn.legal_end(d date, n integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r date := d + n;
BEGIN
	FOR i IN 1..60 LOOP
		EXIT WHEN pakn.is_working_day(r);
		r := r + 1;
	END LOOP;
	RETURN r;
END;
$$;

-- The end of a due day, local time, as due_at stores it.
CREATE FUNCTION pakn.day_end(d date) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT (d + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

-- The rule of a category's law in force on the day a complaint was
-- received at t, or NULL (feedback, or received before the law).
CREATE FUNCTION pakn.legal_rule_for(p_category text, t timestamptz)
RETURNS pakn.legal_rule
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM pakn.category c JOIN pakn.legal_rule r ON r.law = c.law
	 WHERE c.code = p_category
	   AND r.valid_from <= pakn.local_date(t)
	   AND (r.valid_until IS NULL OR pakn.local_date(t) < r.valid_until)
$$;

-- A complaint's rule.
CREATE FUNCTION pakn.complaint_rule(c pakn.complaint) RETURNS pakn.legal_rule
LANGUAGE sql STABLE AS $$
	SELECT pakn.legal_rule_for(c.category_code, c.created_at)
$$;

-- When a complaint of a category with a law, received at t, must be
-- accepted (the end of the day); NULL for other categories.
CREATE FUNCTION pakn.accept_due(p_category text, t timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT pakn.day_end(CASE WHEN r.accept_working
		THEN pakn.add_working_days(pakn.local_date(t), r.accept_days)
		ELSE pakn.legal_end(pakn.local_date(t), r.accept_days) END)
	  FROM pakn.legal_rule_for(p_category, t) r
	 WHERE r.id IS NOT NULL
$$;

-- When a complaint received at t must be answered: for a category with
-- a law, accepted (the resolution clock starts at acceptance); else its
-- local-policy deadline (pakn.due_at of 004).
CREATE OR REPLACE FUNCTION pakn.due_at(p_category text, t timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT coalesce(pakn.accept_due(p_category, t),
		pakn.day_end(CASE WHEN c.working_days
		     THEN pakn.add_working_days(pakn.local_date(t), c.deadline_days)
		     ELSE pakn.local_date(t) + c.deadline_days END))
	  FROM pakn.category c WHERE c.code = p_category
$$;

-- The days a complaint's resolution may take: the law's period for its
-- case (complex, remote), its extensions, and the days it was suspended.
CREATE FUNCTION pakn.clock_days(c pakn.complaint) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN c.remote AND c.complex
			THEN coalesce(r.remote_complex_days, r.complex_days,
				r.remote_days, r.resolve_days)
		    WHEN c.remote THEN coalesce(r.remote_days, r.resolve_days)
		    WHEN c.complex THEN coalesce(r.complex_days, r.resolve_days)
		    ELSE r.resolve_days END
	       + c.extensions * r.extension_days + c.suspended_days
	  FROM pakn.complaint_rule(c) r
$$;

-- When an accepted complaint must be resolved: calendar days from
-- acceptance, the last one moved to the next working day.
CREATE FUNCTION pakn.resolve_due(c pakn.complaint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT pakn.day_end(pakn.legal_end(c.accepted_on, pakn.clock_days(c)))
$$;

-- Is the place of a complaint, or the unit answering it, a remote area?
CREATE FUNCTION pakn.complaint_remote(c pakn.complaint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pakn.unit u
		WHERE u.remote AND (u.code = c.responsible_unit
			OR u.code IN (SELECT a.code
				FROM pakn.unit_ancestors(c.location_unit) a
				WHERE a.distance = 0 OR pakn.commune_level(a.kind))))
$$;

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

-------------------------------------------------------------------------
-- What people are told
-------------------------------------------------------------------------

-- What a complaint's due date is: 'trả lời' (feedback), 'thụ lý'
-- (waiting for acceptance), 'giải quyết' (accepted); 'ngày hẹn' after
-- an apology.
CREATE FUNCTION pakn.due_kind(c pakn.complaint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN c.new_due_at IS NOT NULL THEN 'ngày hẹn'
		    WHEN (pakn.complaint_rule(c)).id IS NULL THEN 'hạn trả lời'
		    WHEN c.accepted_on IS NULL THEN 'hạn thụ lý'
		    ELSE 'hạn giải quyết' END
$$;

-- The variables of a complaint for templates (pakn.complaint_vars of
-- 013): due is the date promised last (the apology's new date when there
-- is one), due_kind and due_label say what it is, first_due is the
-- deadline itself; the apology's reason and new date; the acceptance.
CREATE OR REPLACE FUNCTION pakn.complaint_vars(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('ticket', c.ticket, 'category', cat.name,
		'unit', coalesce(u.name, ''),
		'due', coalesce(pakn.due_vi(coalesce(c.new_due_at, c.due_at)), ''),
		'due_note', pakn.due_note(coalesce(c.new_due_at, c.due_at)),
		'due_kind', pakn.due_kind(c),
		'due_label', upper(left(pakn.due_kind(c), 1))
			|| substr(pakn.due_kind(c), 2),
		'due_short', CASE pakn.due_kind(c) WHEN 'hạn trả lời' THEN 'hạn'
			ELSE pakn.due_kind(c) END,
		'first_due', coalesce(pakn.due_vi(c.due_at), ''),
		'new_due', coalesce(pakn.due_vi(c.new_due_at), ''),
		'reason', coalesce(c.apology_reason, ''),
		'accepted', coalesce(to_char(c.accepted_on, 'DD/MM/YYYY'), ''),
		'law', coalesce((pakn.complaint_rule(c)).name, ''),
		'status', pakn.status_vi(c.status), 'answer', coalesce(c.answer_text, ''),
		'answered', coalesce(pakn.date_vi(c.answered_at), ''),
		'text', left(c.text, 100))
	  FROM pakn.complaint c
	  JOIN pakn.category cat ON cat.code = c.category_code
	  LEFT JOIN pakn.unit u ON u.code = c.responsible_unit
	 WHERE c.id = p_id
$$;

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

-------------------------------------------------------------------------
-- Acting on the clock: accept, complex, extend, suspend, resume,
-- apologise. Each checks nothing (pakn.clock_check does), changes the
-- row, appends to the ledger (with the due date, so replays know it) and
-- tells the citizen. Each returns the number of SMS queued.
-------------------------------------------------------------------------

-- Why an action on a complaint's clock may not be done (status, and the
-- reason in English for the API and in Vietnamese for SMS), or NULLs.
-- p_date is the decision's date (accept, suspend, resume) or the new date
-- (apologize).
CREATE FUNCTION pakn.clock_check(c pakn.complaint, p_action text,
	p_date date, p_reason text,
	OUT status integer, OUT en text, OUT vi text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r pakn.legal_rule := pakn.complaint_rule(c);
	cat pakn.category;
	v_today date := pakn.local_date(now());
	v_due date := pakn.local_date(coalesce(c.new_due_at, c.due_at)
		- interval '1 second');
	v_max date;
BEGIN
	SELECT * INTO cat FROM pakn.category WHERE code = c.category_code;
	IF c.status <> 'open' THEN
		status := 409;
		en := format('complaint %s is %s; only open ones can be changed',
			c.ticket, c.status);
		vi := format('phản ánh %s %s.', c.ticket, pakn.status_vi(c.status));
	ELSIF p_action = 'apologize' THEN
		IF c.suspended_on IS NOT NULL THEN
			status := 409;
			en := format('the clock of %s is suspended; resume it first',
				c.ticket);
			vi := format('phản ánh %s đang tạm dừng.', c.ticket);
			RETURN;
		END IF;
		v_max := pakn.add_working_days(greatest(v_today, v_due),
			cat.apology_max_days);
		IF p_date IS NULL THEN
			status := 400;
			en := 'new_due: required, a date YYYY-MM-DD';
			vi := 'thiếu ngày hẹn (ngày/tháng).';
		ELSIF p_date <= greatest(v_today, v_due) THEN
			status := 400;
			en := format('new_due: must be after %s (today or the date due, whichever is later)',
				greatest(v_today, v_due));
			vi := format('ngày hẹn phải sau ngày %s.',
				to_char(greatest(v_today, v_due), 'DD/MM/YYYY'));
		ELSIF p_date > v_max THEN
			status := 400;
			en := format('new_due: at most %s working days after %s, so %s at the latest',
				cat.apology_max_days, greatest(v_today, v_due), v_max);
			vi := format('ngày hẹn chậm nhất là %s (%s ngày làm việc).',
				to_char(v_max, 'DD/MM/YYYY'), cat.apology_max_days);
		ELSIF NOT pakn.is_working_day(p_date) THEN
			status := 400;
			en := format('new_due: %s is a day off', p_date);
			vi := format('ngày %s là ngày nghỉ.', to_char(p_date, 'DD/MM/YYYY'));
		END IF;
	ELSIF r.id IS NULL THEN
		status := 409;
		en := format('category %s is feedback (phản ánh, kiến nghị): its deadline is local policy, without acceptance, complex cases or suspension',
			c.category_code);
		vi := format('phản ánh %s không theo thời hạn luật định.', c.ticket);
	ELSE
		SELECT * INTO status, en, vi
		  FROM pakn.clock_check_law(c, r, p_action, p_date);
	END IF;
	IF status IS NULL AND p_action NOT IN ('accept', 'resume')
			AND coalesce(btrim(p_reason), '') = '' THEN
		status := 400;
		en := 'reason: required, a non-empty string';
		vi := 'thiếu lý do.';
	END IF;
END;
$$;

-- pakn.clock_check for the actions that follow the complaint's law.
CREATE FUNCTION pakn.clock_check_law(c pakn.complaint, r pakn.legal_rule,
	p_action text, p_date date,
	OUT status integer, OUT en text, OUT vi text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_today date := pakn.local_date(now());
BEGIN
	status := 409;
	IF p_action = 'accept' AND c.accepted_on IS NOT NULL THEN
		en := format('%s was accepted on %s', c.ticket, c.accepted_on);
		vi := format('phản ánh %s đã thụ lý ngày %s.', c.ticket,
			to_char(c.accepted_on, 'DD/MM/YYYY'));
	ELSIF p_action <> 'accept' AND p_action <> 'complex'
			AND c.accepted_on IS NULL THEN
		en := format('%s is not accepted yet; accept it first (POST .../accept)',
			c.ticket);
		vi := format('phản ánh %s chưa thụ lý.', c.ticket);
	ELSIF p_action = 'complex' AND r.complex_days IS NULL THEN
		en := format('%s: a complex case is extended instead (POST .../extend, at most %s times %s days)',
			r.name, r.max_extensions, r.extension_days);
	ELSIF p_action = 'complex' AND c.complex THEN
		en := format('%s is marked complex already', c.ticket);
	ELSIF p_action = 'extend' AND r.max_extensions = 0 THEN
		en := format('%s allows no extension; a complex case gets %s days (POST .../complex)',
			r.name, r.complex_days);
	ELSIF p_action = 'extend' AND c.extensions >= r.max_extensions THEN
		en := format('%s was extended %s times; %s allows at most %s extensions of %s days',
			c.ticket, c.extensions, r.name, r.max_extensions,
			r.extension_days);
	ELSIF p_action = 'suspend' AND NOT r.suspension THEN
		en := format('%s (received %s) allows no suspension: suspension came with Law 136/2025/QH15 for complaints received from 1 July 2026',
			r.name, pakn.local_date(c.created_at));
	ELSIF p_action = 'suspend' AND c.suspended_on IS NOT NULL THEN
		en := format('%s is suspended already since %s', c.ticket,
			c.suspended_on);
	ELSIF p_action = 'resume' AND c.suspended_on IS NULL THEN
		en := format('%s is not suspended', c.ticket);
	ELSIF p_date IS NOT NULL AND p_date > v_today THEN
		status := 400;
		en := format('date: %s is in the future', p_date);
		vi := format('ngày %s chưa đến.', to_char(p_date, 'DD/MM/YYYY'));
	ELSIF p_date IS NOT NULL AND p_date < coalesce(c.suspended_on,
			c.accepted_on, pakn.local_date(c.created_at)) THEN
		status := 400;
		en := format('date: %s is before %s', p_date,
			coalesce(c.suspended_on, c.accepted_on,
				pakn.local_date(c.created_at)));
		vi := format('ngày %s sớm hơn ngày nhận đơn.',
			to_char(p_date, 'DD/MM/YYYY'));
	ELSE
		status := NULL;
	END IF;
	IF status IS NOT NULL AND vi IS NULL THEN
		vi := 'không thực hiện được với phản ánh này.';
	END IF;
END;
$$;

-- Accept (thụ lý) on p_on: the resolution clock starts; the place's
-- remoteness is fixed now. Late acceptance stays in the ledger; the new
-- clock is not overdue.
CREATE FUNCTION pakn.complaint_accept(p_id bigint, p_actor_id text,
	p_on date, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_accept_due timestamptz;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_accept_due := pakn.accept_due(c.category_code, c.created_at);
	c.accepted_on := p_on;
	c.remote := pakn.complaint_remote(c);
	UPDATE pakn.complaint SET accepted_on = p_on, remote = c.remote,
		due_at = pakn.resolve_due(c), overdue = false,
		new_due_at = NULL, apologized_at = NULL, apology_reason = NULL
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'accepted', p_reason,
		jsonb_build_object('date', p_on, 'due_at', c.due_at,
			'remote', c.remote, 'rule', (pakn.complaint_rule(c)).id,
			'on_time', pakn.day_end(p_on) <= v_accept_due));
	RETURN pakn.reply(c.gateway, c.msisdn, 'accepted',
		pakn.complaint_vars(p_id), p_id, p_inbound);
END;
$$;

-- Recompute an accepted complaint's resolution due date after a change
-- of its clock (complex, extension, resume), ledger the event and tell
-- the citizen why. An apology's date the new due date passes is dropped.
CREATE FUNCTION pakn.complaint_reclock(c pakn.complaint, p_actor_id text,
	p_event text, p_reason text, p_why text, p_detail jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	IF c.accepted_on IS NOT NULL THEN
		c.due_at := pakn.resolve_due(c);
	END IF;
	UPDATE pakn.complaint SET complex = c.complex, extensions = c.extensions,
		extended = c.extended, suspended_on = c.suspended_on,
		suspended_days = c.suspended_days, due_at = c.due_at,
		new_due_at = CASE WHEN new_due_at > c.due_at THEN new_due_at END,
		apology_reason = CASE WHEN new_due_at > c.due_at
			THEN apology_reason END
	 WHERE id = c.id;
	PERFORM pakn.ledger(c.id, 'official', p_actor_id, p_event, p_reason,
		p_detail || jsonb_build_object('due_at', c.due_at));
	IF c.accepted_on IS NULL THEN
		RETURN 0;
	END IF;
	RETURN pakn.reply(c.gateway, c.msisdn, 'clock_changed',
		pakn.vars(c.id, jsonb_build_object('why', p_why)), c.id, NULL);
END;
$$;

-- Mark a complaint complex (Law on Complaints art. 28): its period is
-- the longer one.
CREATE FUNCTION pakn.complaint_complex(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	c.complex := true;
	RETURN pakn.complaint_reclock(c, p_actor_id, 'marked_complex', p_reason,
		'vụ việc phức tạp, thời hạn giải quyết kéo dài theo luật');
END;
$$;

-- Extend a denunciation's resolution by the law's extension (Law on
-- Denunciations art. 30: at most twice, 30 days each).
CREATE FUNCTION pakn.complaint_extend_legal(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	c.extensions := c.extensions + 1;
	c.extended := true;
	RETURN pakn.complaint_reclock(c, p_actor_id, 'extended', p_reason,
		format('gia hạn giải quyết lần %s (%s)', c.extensions, p_reason),
		jsonb_build_object('extension', c.extensions));
END;
$$;

-- Suspend the resolution from p_on (the clock pauses; the deadline
-- worker leaves the complaint alone until it resumes).
CREATE FUNCTION pakn.complaint_suspend(p_id bigint, p_actor_id text,
	p_on date, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET suspended_on = p_on
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'suspended', p_reason,
		jsonb_build_object('date', p_on));
	RETURN pakn.reply(c.gateway, c.msisdn, 'suspended',
		pakn.vars(p_id, jsonb_build_object('since',
			to_char(p_on, 'DD/MM/YYYY'), 'reason', p_reason)), p_id, NULL);
END;
$$;

-- Resume on p_on: the suspended days are added to the period, so the
-- due date moves by them.
CREATE FUNCTION pakn.complaint_resume(p_id bigint, p_actor_id text,
	p_on date, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_days integer;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_days := p_on - c.suspended_on;
	c.suspended_days := c.suspended_days + v_days;
	c.suspended_on := NULL;
	RETURN pakn.complaint_reclock(c, p_actor_id, 'resumed', p_reason,
		format('tiếp tục giải quyết sau %s ngày tạm dừng', v_days),
		jsonb_build_object('date', p_on, 'days', v_days));
END;
$$;

-- The responsible unit's apology: the reason and a new date (checked by
-- pakn.clock_check), told to the citizen; the deadline worker watches
-- the new date.
CREATE FUNCTION pakn.complaint_apologize(p_id bigint, p_actor_id text,
	p_new_due date, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_due text;
BEGIN
	SELECT pakn.due_vi(coalesce(new_due_at, due_at)) INTO STRICT v_due
	  FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	UPDATE pakn.complaint SET apologized_at = now(),
		new_due_at = pakn.day_end(p_new_due), apology_reason = p_reason
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'apologised',
		p_reason, jsonb_build_object('new_due_at', c.new_due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'apology',
		pakn.vars(p_id, jsonb_build_object('due', v_due)), p_id, p_inbound);
END;
$$;

-- Do a checked clock action. Returns the number of SMS queued.
CREATE FUNCTION pakn.clock_do(c pakn.complaint, p_actor_id text,
	p_action text, p_date date, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	RETURN CASE p_action
	WHEN 'accept' THEN pakn.complaint_accept(c.id, p_actor_id,
		coalesce(p_date, pakn.local_date(now())), p_reason, p_inbound)
	WHEN 'complex' THEN pakn.complaint_complex(c.id, p_actor_id, p_reason)
	WHEN 'extend' THEN pakn.complaint_extend_legal(c.id, p_actor_id,
		p_reason)
	WHEN 'suspend' THEN pakn.complaint_suspend(c.id, p_actor_id,
		coalesce(p_date, pakn.local_date(now())), p_reason)
	WHEN 'resume' THEN pakn.complaint_resume(c.id, p_actor_id,
		coalesce(p_date, pakn.local_date(now())), p_reason)
	ELSE pakn.complaint_apologize(c.id, p_actor_id, p_date, p_reason,
		p_inbound) END;
END;
$$;

-------------------------------------------------------------------------
-- The officials' API: POST /v1/complaints/{ticket}/accept {"date",
-- "reason"}, /complex {"reason"}, /suspend and /resume {"reason",
-- "date"}, /apologize {"reason", "new_due"}; /extend follows the law for
-- categories that have one. Dates are YYYY-MM-DD; a decision's date
-- defaults to today and may be earlier (a decision entered later).
-------------------------------------------------------------------------

-- A date argument: NULL when absent, 'bad' when not a date.
CREATE FUNCTION pakn.api_date(p_args jsonb, p_name text,
	OUT d date, OUT bad boolean)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v text := pakn.api_arg(p_args, p_name);
BEGIN
	bad := false;
	IF v IS NULL THEN
		RETURN;
	ELSIF v !~ '^\d{4}-\d{2}-\d{2}$' THEN
		bad := true;
		RETURN;
	END IF;
	BEGIN
		d := v::date;
	EXCEPTION WHEN OTHERS THEN
		bad := true;
	END;
END;
$$;

-- A clock action through the API, checked; the answer as pakn.api_act's.
CREATE FUNCTION pakn.api_clock(o pakn.official, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint := pakn.api_find(o, p_ticket, true);
	v_field text := CASE p_action WHEN 'apologize' THEN 'new_due'
		ELSE 'date' END;
	v_date record := pakn.api_date(p_args, v_field);
	v_reason text := pakn.api_arg(p_args, 'reason');
	-- An apology's reason goes into the citizen's SMS: shorter.
	v_max integer := CASE WHEN p_action = 'apologize' THEN 200 ELSE 500 END;
	v_check record;
	n integer;
BEGIN
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	ELSIF v_date.bad THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('%s: a date YYYY-MM-DD', v_field));
	ELSIF length(coalesce(v_reason, '')) > v_max THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('reason: at most %s characters', v_max));
	END IF;
	v_check := pakn.clock_check(c, p_action, v_date.d, v_reason);
	IF v_check.status IS NOT NULL THEN
		RETURN pakn.api_error(v_check.status, CASE v_check.status
			WHEN 409 THEN 'conflict' ELSE 'bad_request' END, v_check.en);
	END IF;
	n := pakn.clock_do(c, o.id::text, p_action, v_date.d, v_reason, NULL);
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id), n);
END;
$$;

-- POST /v1/complaints/{ticket}/{action} (called by paknd instead of
-- pakn.api_act_scoped of 012): the clock's actions here, extend too for
-- a category with a law; every other action as before.
CREATE FUNCTION pakn.api_act_clock(p_token text, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official;
	c pakn.complaint;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('accept', 'complex', 'extend',
			'suspend', 'resume', 'apologize') THEN
		RETURN pakn.api_act_scoped(p_token, p_ticket, p_action, p_args);
	END IF;
	o := pakn.api_auth(p_token);
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	END IF;
	IF p_action = 'extend' THEN
		SELECT * INTO c FROM pakn.complaint WHERE ticket = upper(p_ticket);
		IF c.id IS NULL OR (pakn.complaint_rule(c)).id IS NULL THEN
			RETURN pakn.api_act_scoped(p_token, p_ticket, p_action, p_args);
		END IF;
	END IF;
	RETURN pakn.api_clock(o, p_ticket, p_action, p_args);
END;
$$;

-- A complaint's clock as the API shows it: the law and its source, the
-- stage, the dates; the apology. NULL law for feedback.
CREATE FUNCTION pakn.api_clock_json(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'law', r.law, 'rule', r.name, 'source', r.source,
		'stage', CASE WHEN r.id IS NULL THEN NULL
			WHEN c.accepted_on IS NULL THEN 'acceptance'
			ELSE 'resolution' END,
		'received_date', to_char(pakn.local_date(c.created_at), 'YYYY-MM-DD'),
		'accept_due_date', to_char(pakn.local_date(pakn.accept_due(
			c.category_code, c.created_at) - interval '1 second'),
			'YYYY-MM-DD'),
		'accepted_date', to_char(c.accepted_on, 'YYYY-MM-DD'),
		'days', CASE WHEN c.accepted_on IS NOT NULL
			THEN pakn.clock_days(c) END,
		'counted_in', CASE WHEN r.id IS NOT NULL
				AND (c.accepted_on IS NOT NULL OR NOT r.accept_working)
			THEN 'calendar days'
			WHEN r.id IS NULL AND NOT cat.working_days THEN 'calendar days'
			ELSE 'working days' END,
		'complex', c.complex, 'remote', c.remote,
		'extensions', c.extensions,
		'max_extensions', coalesce(r.max_extensions, 0),
		'suspended', c.suspended_on IS NOT NULL,
		'suspended_since', to_char(c.suspended_on, 'YYYY-MM-DD'),
		'suspended_days', c.suspended_days,
		'apology', CASE WHEN c.new_due_at IS NOT NULL THEN
			jsonb_build_object('reason', c.apology_reason,
				'new_due_date', to_char(pakn.local_date(c.new_due_at
					- interval '1 second'), 'YYYY-MM-DD'),
				'at', pakn.api_time(c.apologized_at)) END)
	  FROM pakn.category cat
	  LEFT JOIN pakn.legal_rule r ON r.id = (pakn.complaint_rule(c)).id
	 WHERE cat.code = c.category_code
$$;

-- A complaint as the API shows it (pakn.api_complaint of 013) with its
-- clock; a suspended clock is not overdue.
CREATE OR REPLACE FUNCTION pakn.api_complaint(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'ticket', c.ticket, 'status', c.status,
		'category', jsonb_build_object('code', cat.code, 'name', cat.name),
		'dimension', jsonb_build_object('code', d.code, 'name', d.name_vi,
			'name_en', d.name_en),
		'location_unit', pakn.api_unit(c.location_unit),
		'responsible_unit', pakn.api_unit(c.responsible_unit),
		'text', c.text,
		'created_at', pakn.api_time(c.created_at),
		'due_at', pakn.api_time(c.due_at),
		'due_date', to_char(pakn.local_date(c.due_at - interval '1 second'),
			'YYYY-MM-DD'),
		'new_due_date', to_char(pakn.local_date(c.new_due_at
			- interval '1 second'), 'YYYY-MM-DD'),
		'due_provisional', pakn.due_provisional(c.due_at),
		'due_calendar', CASE WHEN c.due_at IS NOT NULL THEN
			jsonb_build_object('year', pakn.due_year(c.due_at),
				'status', pakn.calendar_status(pakn.due_year(c.due_at)))
			END,
		'overdue', pakn.api_overdue(c) AND c.suspended_on IS NULL,
		'extended', c.extended, 'reopen_count', c.reopen_count,
		'answer', c.answer_text,
		'answered_at', pakn.api_time(c.answered_at),
		'closed_at', pakn.api_time(c.closed_at),
		'close_reason', c.close_reason,
		'triage', c.triage,
		'sensitive', c.sensitive, 'anonymous', c.sensitive,
		'citizen', CASE WHEN c.sensitive
			THEN pakn.api_report_pseudonym(c.id)
			ELSE pakn.api_pseudonym(c.msisdn) END,
		'clock', pakn.api_clock_json(c))
	  FROM pakn.category cat, pakn.papi_dimension d
	 WHERE cat.code = c.category_code AND d.code = c.dimension
$$;

-- What officials see of the new events' details: add the clock's keys
-- (pakn.api_detail of 007).
CREATE OR REPLACE FUNCTION pakn.api_detail(p_detail jsonb, p_sensitive boolean)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')
	  FROM jsonb_each(p_detail) e
	 WHERE e.key IN ('unit', 'from', 'to', 'parent', 'due_at', 'new_due_at',
			'on_time', 'category', 'date', 'days', 'remote', 'rule',
			'extension', 'again')
	    OR (NOT p_sensitive AND e.key IN ('text', 'location', 'score'))
$$;

-------------------------------------------------------------------------
-- Officials' SMS: THU LY <ticket> accepts today; HEN <ticket> <dd/mm[/yyyy]>
-- <reason> apologises with a new date (daemon/grammar.c).
-------------------------------------------------------------------------

-- The date at the start of an SMS text ("25/9", "25/09/2026", "25-9-26")
-- and the words after it. Without a year: the next such day from today.
CREATE FUNCTION pakn.sms_date(p_text text, OUT d date, OUT rest text)
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
CREATE FUNCTION pakn.sms_clock(p_gateway text, p_msisdn text, p_kind text,
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

-- The SMS commands accept (THU LY) and apologize (HEN) are dispatched by
-- pakn.handle_sms, whose one definition with every command is in 020.

-------------------------------------------------------------------------
-- The deadline worker
-------------------------------------------------------------------------

-- Escalate the passing of a complaint's date promised last: the first
-- time (no apology yet) the unit's leaders and the parent unit are told,
-- the unit's officers are asked for the apology and the citizen is told
-- one will come; after an apology's new date, the officers are reminded,
-- the leaders and the parent told again, and the citizen too. Returns
-- the number of SMS queued.
CREATE FUNCTION pakn.deadline_escalate(c pakn.complaint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_again boolean := c.new_due_at IS NOT NULL;
	v_parent text;
	n integer := 0;
BEGIN
	UPDATE pakn.complaint SET overdue = true,
		escalated_at = coalesce(escalated_at, now()),
		escalated_for = coalesce(new_due_at, due_at)
	 WHERE id = c.id;
	SELECT parent_code INTO v_parent FROM pakn.unit
	 WHERE code = c.responsible_unit;
	PERFORM pakn.ledger(c.id, 'system', NULL, 'escalated', NULL,
		jsonb_build_object('unit', c.responsible_unit, 'parent', v_parent)
		|| CASE WHEN v_again THEN jsonb_build_object('again', true,
			'new_due_at', c.new_due_at) ELSE '{}' END);
	n := pakn.notify_unit(c.responsible_unit, '{leader}',
		CASE WHEN v_again THEN 'escalation_again' ELSE 'escalation' END, c.id);
	IF v_parent IS NOT NULL THEN
		n := n + pakn.notify_unit(v_parent, '{leader,admin}',
			CASE WHEN v_again THEN 'escalation_again' ELSE 'escalation' END,
			c.id);
	END IF;
	n := n + pakn.notify_unit(c.responsible_unit, '{officer}',
		CASE WHEN v_again THEN 'reminder_again' ELSE 'apology_due' END, c.id);
	RETURN n + pakn.reply(c.gateway, c.msisdn, CASE WHEN v_again
		THEN 'overdue_again' ELSE 'overdue_notice' END,
		pakn.complaint_vars(c.id), c.id, NULL);
END;
$$;

-- The deadline worker's pass (pakn.deadline_run of 006): reminders before
-- the date promised last (the deadline, or an apology's new date),
-- escalation when it passes, once per date; suspended clocks wait;
-- answered complaints nobody rated are closed. One instance at a time
-- (advisory lock); rows claimed with SKIP LOCKED. p_apology_days is no
-- longer used: the unit sets the apology's date (pakn.complaint_apologize).
CREATE OR REPLACE FUNCTION pakn.deadline_run(p_remind_days integer,
	p_apology_days integer, p_rating_wait_days integer, p_limit integer,
	OUT locked boolean, OUT reminded integer, OUT escalated integer,
	OUT closed integer, OUT sms integer)
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	reminded := 0; escalated := 0; closed := 0; sms := 0;
	locked := pg_try_advisory_xact_lock(7141747);
	IF NOT locked THEN
		RETURN;
	END IF;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'open' AND suspended_on IS NULL
		    AND now() < coalesce(new_due_at, due_at)
		    AND reminded_for IS DISTINCT FROM coalesce(new_due_at, due_at)
		    AND pakn.add_working_days(pakn.local_date(now()), p_remind_days)
			>= pakn.local_date(coalesce(new_due_at, due_at)
				- interval '1 second')
		  ORDER BY coalesce(new_due_at, due_at) LIMIT p_limit
		  FOR UPDATE SKIP LOCKED LOOP
		UPDATE pakn.complaint SET reminded_at = now(),
			reminded_for = coalesce(new_due_at, due_at)
		 WHERE id = c.id;
		PERFORM pakn.ledger(c.id, 'system', NULL, 'reminded');
		sms := sms + pakn.notify_unit(c.responsible_unit,
			'{officer,leader,admin}', 'reminder', c.id);
		reminded := reminded + 1;
	END LOOP;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'open' AND suspended_on IS NULL
		    AND now() >= coalesce(new_due_at, due_at)
		    AND escalated_for IS DISTINCT FROM coalesce(new_due_at, due_at)
		  ORDER BY coalesce(new_due_at, due_at) LIMIT p_limit
		  FOR UPDATE SKIP LOCKED LOOP
		sms := sms + pakn.deadline_escalate(c);
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

-- The events accepted, marked_complex and resumed are replayed by
-- pakn.complaint_replay, redefined with every event in 017.

-------------------------------------------------------------------------
-- paknctl import-units: the remote column (yes/no; empty keeps the
-- unit's flag).
-------------------------------------------------------------------------

-- Upsert units (pakn.import_units), then their remote flags.
CREATE FUNCTION pakn.import_units_remote(OUT inserted integer,
	OUT updated integer)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT i.inserted, i.updated INTO inserted, updated
	  FROM pakn.import_units() i;
	UPDATE pakn.unit u SET remote = i.remote, updated_at = now()
	  FROM pg_temp.import_unit i
	 WHERE i.code = u.code AND i.remote IS NOT NULL
	   AND i.remote IS DISTINCT FROM u.remote;
END;
$$;
