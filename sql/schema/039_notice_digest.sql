-- 039: one SMS to an official for the new complaints of a burst (issue
-- 12). When one processing group (pakn.intake_process_batch, up to
-- [intake] process_batch messages) routes several new complaints whose
-- notice goes to the same phone, that phone gets one SMS listing them
-- instead of one a complaint: how many, their units, the earliest date
-- and the first eight tickets (three UCS-2 parts at most; XEM <ticket>
-- shows one, DS the queue). A complaint alone in its group, or one
-- processed one by one, is notified as before (new_complaint).
INSERT INTO pakn.template (code, body, description) VALUES
	('new_complaints', '{count} phản ánh mới giao {unit}, hạn sớm nhất {due}: {tickets}. Xem từng phản ánh: XEM <mã>; hàng đợi: DS',
		'to a unit''s officials: several new complaints processed together (one SMS for all of them)'),
	('new_complaints_fallback', '{count} phản ánh mới giao {unit} (đơn vị chưa có cán bộ nhận tin), hạn sớm nhất {due}: {tickets}. Xem từng phản ánh: XEM <mã>',
		'to the officials above a unit without any: several new complaints processed together')
ON CONFLICT (code) DO NOTHING;
