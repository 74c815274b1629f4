-- 013: right by law and by the calendar (issue 13). The holiday calendar
-- with a source per day and a status per year (decided or provisional),
-- the due date's status in the officials' answers; PAPI's own names;
-- unit kind special_zone; reports of corruption recognised and routed to
-- the inspection unit above the place; complaints that fit no category
-- left to triage.

-------------------------------------------------------------------------
-- Calendar: every day off or worked back names its source; every year
-- is decided (the government's decisions are out) or provisional (the
-- Labour Code's days, to be confirmed).
-------------------------------------------------------------------------

ALTER TABLE pakn.holiday ADD COLUMN source text;
COMMENT ON COLUMN pakn.holiday.source IS
	'the law or decision that makes the day a holiday or a workday';

CREATE TABLE pakn.holiday_year (
	year       integer PRIMARY KEY CHECK (year BETWEEN 1900 AND 9999),
	status     text NOT NULL CHECK (status IN ('decided', 'provisional')),
	source     text NOT NULL CHECK (source <> ''),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pakn.holiday_year IS
	'per year: are its days off decided by the government, and by what';

-- The Labour Code: art. 112 (1/1, Tết 5 days, Hùng Kings 10/3 lunar,
-- 30/4, 1/5, 2/9 and a day beside it; the Prime Minister fixes Tết's and
-- 2/9's days each year) and art. 111(3) (a holiday on a weekly rest day
-- is taken on the next working day).
UPDATE pakn.holiday SET source = 'Bộ luật Lao động 2019 (45/2019/QH14), Điều 112'
 WHERE source IS NULL;
UPDATE pakn.holiday SET source = 'Bộ luật Lao động 2019, Điều 111 khoản 3 (nghỉ bù ngày lễ trùng ngày nghỉ hằng tuần)'
 WHERE day IN ('2026-04-27', '2027-05-03', '2027-02-10', '2027-02-11');
-- 2025: the swap of Friday 2 May with Saturday 26 April was announced
-- for civil servants by the Ministry of Home Affairs in April 2025.
UPDATE pakn.holiday SET source = 'Hoán đổi ngày làm việc 2025 của Bộ Nội vụ (nghỉ thứ Sáu 2/5, làm bù thứ Bảy 26/4/2025)'
 WHERE day IN ('2025-04-26', '2025-05-02');

-- 2026 as decided. New Year: Friday 2 January off, worked back on
-- Saturday 10 January (Government Office letter 12729/VPCP-KGVX).
-- National Day: Monday 31 August off with 1-2 September, worked back on
-- Saturday 22 August (Ministry of Home Affairs notice 9441/TB-BNV).
INSERT INTO pakn.holiday (day, kind, name, source) VALUES
	('2026-01-02', 'holiday', 'Tết Dương lịch (nghỉ hoán đổi, làm bù 10/1)',
		'Công văn 12729/VPCP-KGVX của Văn phòng Chính phủ'),
	('2026-01-10', 'workday', 'Làm bù cho ngày 2/1',
		'Công văn 12729/VPCP-KGVX của Văn phòng Chính phủ'),
	('2026-08-22', 'workday', 'Làm bù cho ngày 31/8',
		'Thông báo 9441/TB-BNV của Bộ Nội vụ'),
	('2026-08-31', 'holiday', 'Quốc khánh (nghỉ hoán đổi, làm bù 22/8)',
		'Thông báo 9441/TB-BNV của Bộ Nội vụ')
ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,
	source = excluded.source;
UPDATE pakn.holiday SET source = 'Bộ luật Lao động 2019, Điều 112; Thông báo 9441/TB-BNV của Bộ Nội vụ'
 WHERE day IN ('2026-09-01', '2026-09-02');

-- 2027 until decided: Tết Đinh Mùi is Saturday 6 February 2027 (mùng 1);
-- tháng Chạp has 29 days, so Friday 5 February is 29 tháng Chạp (the
-- eve). Tết's five days are 5-9 February; mùng 1 and 2 fall on the
-- weekend and are taken on 10 and 11 February (art. 111(3)).
UPDATE pakn.holiday SET name = 'Tết Nguyên đán (29 tháng Chạp)'
 WHERE day = '2027-02-05';
INSERT INTO pakn.holiday (day, kind, name, source) VALUES
	('2027-02-06', 'holiday', 'Tết Nguyên đán (mùng 1, thứ Bảy)',
		'Bộ luật Lao động 2019 (45/2019/QH14), Điều 112'),
	('2027-02-07', 'holiday', 'Tết Nguyên đán (mùng 2, Chủ nhật)',
		'Bộ luật Lao động 2019 (45/2019/QH14), Điều 112')
ON CONFLICT (day) DO NOTHING;
UPDATE pakn.holiday SET source = 'Dự kiến: ' || source
 WHERE extract(year FROM day) = 2027 AND source NOT LIKE 'Dự kiến%';

ALTER TABLE pakn.holiday ALTER COLUMN source SET NOT NULL,
	ADD CONSTRAINT holiday_source_check CHECK (source <> '');

INSERT INTO pakn.holiday_year (year, status, source) VALUES
	(2025, 'decided', 'Bộ luật Lao động 2019, Điều 111, 112; lịch nghỉ Tết và Quốc khánh 2025 do Thủ tướng quyết định; hoán đổi 2/5 của Bộ Nội vụ'),
	(2026, 'decided', 'Bộ luật Lao động 2019, Điều 111, 112; Công văn 12729/VPCP-KGVX (Tết Dương lịch); Thông báo 9441/TB-BNV (Quốc khánh)'),
	(2027, 'provisional', 'Dự kiến theo Bộ luật Lao động 2019, Điều 111, 112; chờ quyết định của Thủ tướng về Tết và Quốc khánh 2027');

-- A year's status: decided, provisional, or missing (no calendar: only
-- weekends are days off).
CREATE FUNCTION pakn.calendar_status(p_year integer) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT y.status FROM pakn.holiday_year y
			  WHERE y.year = p_year), 'missing')
$$;

-- The year of the last day of a due moment (the end of the due day).
CREATE FUNCTION pakn.due_year(p_due timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT extract(year FROM pakn.local_date(p_due - interval '1 second'))::integer
$$;

-- Does a due date fall in a year whose days off are not decided yet?
CREATE FUNCTION pakn.due_provisional(p_due timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_due IS NOT NULL
	   AND pakn.calendar_status(pakn.due_year(p_due)) <> 'decided'
$$;

-- What officials are told about such a due date (empty when decided).
CREATE FUNCTION pakn.due_note(p_due timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN pakn.due_provisional(p_due)
		THEN format(' (lịch nghỉ năm %s chưa chính thức)',
			pakn.due_year(p_due))
		ELSE '' END
$$;

-- The variables of a complaint for templates, with due_note for the
-- officials' messages (pakn.complaint_vars of 004 plus due_note).
CREATE OR REPLACE FUNCTION pakn.complaint_vars(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('ticket', c.ticket, 'category', cat.name,
		'unit', coalesce(u.name, ''), 'due', coalesce(pakn.due_vi(c.due_at), ''),
		'due_note', pakn.due_note(c.due_at),
		'status', pakn.status_vi(c.status), 'answer', coalesce(c.answer_text, ''),
		'answered', coalesce(pakn.date_vi(c.answered_at), ''),
		'text', left(c.text, 100))
	  FROM pakn.complaint c
	  JOIN pakn.category cat ON cat.code = c.category_code
	  LEFT JOIN pakn.unit u ON u.code = c.responsible_unit
	 WHERE c.id = p_id
$$;

UPDATE pakn.template SET body = replace(body, 'hạn {due}:', 'hạn {due}{due_note}:')
 WHERE code = 'new_complaint' AND body NOT LIKE '%{due_note}%';
UPDATE pakn.template SET body = replace(body, 'hạn trả lời {due}.', 'hạn trả lời {due}{due_note}.')
 WHERE code = 'reminder' AND body NOT LIKE '%{due_note}%';

-- Upsert holidays from pg_temp.import_holiday(line, day, kind, name,
-- source, status). Every row names its source. Rows with a status
-- (decided or provisional) give the whole calendar of their year: the
-- year takes that status and its other days are deleted. Rows without
-- one add or change days, the year keeps its status (a new year is
-- provisional). The year's source gains the sources it lacked.
CREATE OR REPLACE FUNCTION pakn.import_holidays(OUT inserted integer,
	OUT updated integer)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.import_holidays_check();
	SELECT count(*) FILTER (WHERE h.day IS NULL),
	       count(*) FILTER (WHERE h.day IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_holiday i LEFT JOIN pakn.holiday h ON h.day = i.day;
	DELETE FROM pakn.holiday h
	 WHERE extract(year FROM h.day) IN (SELECT extract(year FROM i.day)
			FROM pg_temp.import_holiday i WHERE i.status IS NOT NULL)
	   AND h.day NOT IN (SELECT i.day FROM pg_temp.import_holiday i);
	INSERT INTO pakn.holiday (day, kind, name, source)
	SELECT i.day, i.kind, i.name, i.source FROM pg_temp.import_holiday i
	ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,
		source = excluded.source;
	INSERT INTO pakn.holiday_year AS y (year, status, source)
	SELECT extract(year FROM i.day)::integer,
	       coalesce(max(i.status), 'provisional'),
	       string_agg(DISTINCT i.source, '; ')
	  FROM pg_temp.import_holiday i GROUP BY 1
	ON CONFLICT (year) DO UPDATE SET
		status = coalesce((SELECT max(i.status) FROM pg_temp.import_holiday i
			WHERE extract(year FROM i.day) = excluded.year), y.status),
		source = CASE WHEN EXISTS (SELECT 1 FROM pg_temp.import_holiday i
				WHERE extract(year FROM i.day) = excluded.year
				  AND i.status IS NOT NULL)
			THEN excluded.source
			ELSE y.source || coalesce((SELECT string_agg(DISTINCT
				'; ' || i.source, '') FROM pg_temp.import_holiday i
				WHERE extract(year FROM i.day) = excluded.year
				  AND strpos(y.source, i.source) = 0), '') END,
		updated_at = now();
END;
$$;

-- Check every row of pg_temp.import_holiday; raise naming the line.
CREATE FUNCTION pakn.import_holidays_check() RETURNS void
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
		ELSIF coalesce(r.source, '') = '' THEN
			RAISE EXCEPTION 'line %: % has no source (the law or decision that sets it)',
				r.line, r.day;
		ELSIF r.status IS NOT NULL AND r.status NOT IN ('decided', 'provisional') THEN
			RAISE EXCEPTION 'line %: status "%" is not decided or provisional',
				r.line, r.status;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_holiday d
				WHERE d.day = r.day AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: % appears twice in the file', r.line, r.day;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_holiday d
				WHERE extract(year FROM d.day) = extract(year FROM r.day)
				  AND d.line < r.line
				  AND d.status IS DISTINCT FROM r.status) THEN
			RAISE EXCEPTION 'line %: the rows of % must all have the same status (or none)',
				r.line, extract(year FROM r.day);
		END IF;
	END LOOP;
END;
$$;

-- A complaint as the API shows it (pakn.api_complaint of 007): adds
-- whether its due date falls in a year whose days off are provisional.
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
		'due_provisional', pakn.due_provisional(c.due_at),
		'due_calendar', CASE WHEN c.due_at IS NOT NULL THEN
			jsonb_build_object('year', pakn.due_year(c.due_at),
				'status', pakn.calendar_status(pakn.due_year(c.due_at)))
			END,
		'overdue', pakn.api_overdue(c),
		'extended', c.extended, 'reopen_count', c.reopen_count,
		'answer', c.answer_text,
		'answered_at', pakn.api_time(c.answered_at),
		'closed_at', pakn.api_time(c.closed_at),
		'close_reason', c.close_reason,
		'sensitive', c.sensitive, 'anonymous', c.sensitive,
		'citizen', CASE WHEN NOT c.sensitive
			THEN pakn.api_pseudonym(c.msisdn) END)
	  FROM pakn.category cat, pakn.papi_dimension d
	 WHERE cat.code = c.category_code AND d.code = c.dimension
$$;
