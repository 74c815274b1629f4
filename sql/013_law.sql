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
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v text;
BEGIN
	SELECT y.status INTO v FROM pakn.holiday_year y WHERE y.year = p_year;
	RETURN coalesce(v, 'missing');
END;
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


-------------------------------------------------------------------------
-- PAPI's own names (papi.org.vn): dimension 2 is about decision-making,
-- dimension 3 is vertical accountability. The API, the dashboard, the
-- reports and the USSD menus read them from this table.
-------------------------------------------------------------------------

UPDATE pakn.papi_dimension
   SET name_vi = 'Công khai, minh bạch trong việc ra quyết định ở địa phương',
       name_en = 'Transparency in Local Decision-making'
 WHERE code = 2;
UPDATE pakn.papi_dimension
   SET name_en = 'Vertical Accountability Towards Citizens'
 WHERE code = 3;

-------------------------------------------------------------------------
-- Unit kinds. Since 1 July 2025 (the Law on Organisation of Local
-- Government 2025; Resolution 202/2025/QH15 on the provinces and the
-- Standing Committee's resolutions on each province's communes) there
-- are two levels: 34 provinces, and communes, wards and special zones
-- (đặc khu, island units such as Côn Đảo or Phú Quốc; 13 in the
-- statistics office's list, letter 1027/CTK-CSCL). Kind 'district'
-- stays for units and data from before that date (legacy).
-------------------------------------------------------------------------

ALTER TABLE pakn.unit DROP CONSTRAINT unit_kind_check,
	ADD CONSTRAINT unit_kind_check CHECK (kind IN ('province', 'district',
		'commune', 'special_zone', 'department'));
COMMENT ON COLUMN pakn.unit.kind IS
	'province; commune (xã, phường) or special_zone (đặc khu), each standing for its People''s Committee; department; district: legacy, before 1 July 2025';

-- Is a unit of this kind at commune level (a commune, ward or special
-- zone, whose People's Committee answers by default)?
CREATE FUNCTION pakn.commune_level(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_kind IN ('commune', 'special_zone')
$$;

-- Upsert units (pakn.import_units of 005, with kind special_zone).
CREATE OR REPLACE FUNCTION pakn.import_units(OUT inserted integer,
	OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_unit ORDER BY line LOOP
		IF r.code IS NULL OR r.code !~ '^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$' THEN
			RAISE EXCEPTION 'line %: bad unit code "%"', r.line, r.code;
		ELSIF coalesce(r.name, '') = '' THEN
			RAISE EXCEPTION 'line %: unit % has no name', r.line, r.code;
		ELSIF r.kind IS NULL OR r.kind NOT IN ('province', 'district',
				'commune', 'special_zone', 'department') THEN
			RAISE EXCEPTION 'line %: kind "%" is not province, commune, special_zone, department or district (before 1 July 2025)',
				r.line, r.kind;
		ELSIF r.parent_code = r.code THEN
			RAISE EXCEPTION 'line %: unit % is its own parent', r.line, r.code;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_unit d
				WHERE d.code = r.code AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: unit % appears twice in the file',
				r.line, r.code;
		ELSIF r.parent_code IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM pg_temp.import_unit p WHERE p.code = r.parent_code
				UNION ALL
				SELECT 1 FROM pakn.unit u WHERE u.code = r.parent_code) THEN
			RAISE EXCEPTION 'line %: unknown parent_code %', r.line,
				r.parent_code;
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE u.code IS NULL),
	       count(*) FILTER (WHERE u.code IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_unit i LEFT JOIN pakn.unit u ON u.code = i.code;
	PERFORM set_config('pakn.importing', 'on', true);
	INSERT INTO pakn.unit AS u (code, name, parent_code, kind, phones)
	SELECT i.code, i.name, i.parent_code, i.kind,
	       coalesce(i.phones, '{}')
	  FROM pg_temp.import_unit i ORDER BY i.line
	ON CONFLICT (code) DO UPDATE SET name = excluded.name,
		parent_code = excluded.parent_code, kind = excluded.kind,
		phones = CASE WHEN (SELECT i.phones FROM pg_temp.import_unit i
				WHERE i.code = excluded.code) IS NULL
			THEN u.phones ELSE excluded.phones END,
		updated_at = now();
	PERFORM set_config('pakn.importing', 'off', true);
	PERFORM pakn.import_units_inspection();
	FOR r IN SELECT i.line, i.code FROM pg_temp.import_unit i
		  WHERE i.code = pakn.unit_cycle() LOOP
		RAISE EXCEPTION 'line %: unit % would be its own ancestor',
			r.line, r.code;
	END LOOP;
	IF pakn.unit_cycle() IS NOT NULL THEN
		RAISE EXCEPTION 'the units would form a cycle through %',
			pakn.unit_cycle();
	END IF;
END;
$$;

-- The People's Committee that answers at a location by default (pakn.route
-- of 003, with special zones at commune level): the rule of the deepest
-- area, a rule for the category over one for any; else the commune-level
-- unit containing the location; else the location itself.
-- (PL/pgSQL, as the functions it calls per complaint, so that its plans
-- are kept rather than made again for every complaint.)
CREATE FUNCTION pakn.route_place(p_category text, p_location text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v text;
BEGIN
	SELECT r.unit_code INTO v
	  FROM pakn.unit_ancestors(p_location) a
	  JOIN pakn.routing_rule r ON r.area_code = a.code
	 WHERE r.category_code = p_category OR r.category_code IS NULL
	 ORDER BY a.distance, r.category_code IS NULL, r.id
	 LIMIT 1;
	IF v IS NULL THEN
		SELECT a.code INTO v FROM pakn.unit_ancestors(p_location) a
		 WHERE pakn.commune_level(a.kind) ORDER BY a.distance LIMIT 1;
	END IF;
	IF v IS NULL THEN
		SELECT u.code INTO v FROM pakn.unit u WHERE u.code = p_location;
	END IF;
	RETURN v;
END;
$$;

-------------------------------------------------------------------------
-- Reports of corruption and abuse of office (sensitive categories) go to
-- an inspection unit above the place where it happened, never to that
-- place's units or officials. Each province names its inspection unit
-- (the provincial inspectorate, or the Party inspection commission):
-- pakn.unit.inspection_unit, set by `paknctl import-units`.
-------------------------------------------------------------------------

ALTER TABLE pakn.unit ADD COLUMN inspection_unit text
	REFERENCES pakn.unit (code) DEFERRABLE INITIALLY DEFERRED;
COMMENT ON COLUMN pakn.unit.inspection_unit IS
	'the unit that handles sensitive reports (corruption) about this unit''s territory: the provincial inspectorate or the Party inspection commission';

-- Set inspection units from pg_temp.import_unit (column inspection_unit:
-- empty keeps the unit's). Raises naming the line of a bad one.
CREATE FUNCTION pakn.import_units_inspection() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v_kind text;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_unit
		  WHERE inspection_unit IS NOT NULL ORDER BY line LOOP
		SELECT kind INTO v_kind FROM pakn.unit WHERE code = r.inspection_unit;
		IF v_kind IS NULL THEN
			RAISE EXCEPTION 'line %: unknown inspection_unit %', r.line,
				r.inspection_unit;
		ELSIF v_kind NOT IN ('department', 'province') THEN
			RAISE EXCEPTION 'line %: inspection_unit % is a %, not a department (the inspectorate or the Party inspection commission)',
				r.line, r.inspection_unit, v_kind;
		END IF;
		UPDATE pakn.unit SET inspection_unit = r.inspection_unit
		 WHERE code = r.code;
	END LOOP;
END;
$$;

-- The unit a sensitive report at p_location goes to. The accused are the
-- commune-level unit containing the place and everything under it (or
-- the place itself when it is a department). The first unit that is not
-- one of them: the inspection unit named by the nearest area above the
-- place; a routing rule for the category; the province.
CREATE FUNCTION pakn.route_sensitive(p_category text, p_location text)
RETURNS text
LANGUAGE sql STABLE AS $$
	WITH accused AS (
		SELECT coalesce(
			(SELECT a.code FROM pakn.unit_ancestors(p_location) a
			  WHERE pakn.commune_level(a.kind) ORDER BY a.distance LIMIT 1),
			(SELECT u.code FROM pakn.unit u
			  WHERE u.code = p_location AND u.kind <> 'province')) AS root)
	SELECT coalesce(
		(SELECT u.inspection_unit
		   FROM pakn.unit_ancestors(p_location) a
		   JOIN pakn.unit u ON u.code = a.code, accused x
		  WHERE u.inspection_unit IS NOT NULL
		    AND NOT pakn.unit_in_subtree(u.inspection_unit, x.root)
		  ORDER BY a.distance LIMIT 1),
		(SELECT r.unit_code
		   FROM pakn.unit_ancestors(p_location) a
		   JOIN pakn.routing_rule r ON r.area_code = a.code, accused x
		  WHERE r.category_code = p_category
		    AND NOT pakn.unit_in_subtree(r.unit_code, x.root)
		  ORDER BY a.distance, r.id LIMIT 1),
		(SELECT a.code FROM pakn.unit_ancestors(p_location) a, accused x
		  WHERE a.kind = 'province'
		    AND NOT pakn.unit_in_subtree(a.code, x.root)
		  ORDER BY a.distance LIMIT 1),
		pakn.route_place(p_category, p_location))
$$;

-- The unit responsible for a category at a location (pakn.route of 003):
-- sensitive categories go to the inspection unit (route_sensitive), the
-- others by routing rules and to the commune (route_place).
CREATE OR REPLACE FUNCTION pakn.route(p_category text, p_location text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN coalesce((SELECT c.sensitive FROM pakn.category c
			WHERE c.code = p_category), false)
		THEN pakn.route_sensitive(p_category, p_location)
		ELSE pakn.route_place(p_category, p_location) END
$$;

-- What the USSD menus need to know (pakn.ussd_context of 008): a special
-- zone is a commune a citizen may choose.
CREATE OR REPLACE FUNCTION pakn.ussd_context(p_msisdn text, p_code text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'home', (SELECT jsonb_build_object('code', u.code, 'name', u.name)
			   FROM pakn.citizen c JOIN pakn.unit u ON u.code = c.home_unit
			  WHERE c.msisdn = p_msisdn),
		'example', pakn.example_commune(),
		'unit', (SELECT jsonb_build_object('code', u.code, 'name', u.name)
			   FROM pakn.unit u
			  WHERE u.code = p_code AND pakn.commune_level(u.kind)),
		'dims', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'code', d.code::text, 'label', d.short_vi) ORDER BY d.code),
				'[]')
			   FROM pakn.papi_dimension d),
		'cats', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'code', c.code, 'label', c.name, 'dim', c.dimension)
				ORDER BY c.dimension, c.code = 'general', c.name), '[]')
			   FROM pakn.category c),
		'svcs', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'code', s.code, 'label', s.name, 'dim', s.dimension)
				ORDER BY s.position, s.code), '[]')
			   FROM pakn.public_service s),
		'open', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'ticket', t.ticket, 'status', pakn.status_vi(t.status),
				'due', coalesce(pakn.due_vi(t.due_at), ''))
				ORDER BY t.id DESC), '[]')
			   FROM (SELECT * FROM pakn.complaint
				  WHERE msisdn = p_msisdn
				    AND status IN ('needs_location', 'open', 'answered')
				  ORDER BY id DESC LIMIT 5) t),
		'answered', (SELECT jsonb_build_object('id', c.id, 'ticket', c.ticket)
			   FROM pakn.complaint c
			  WHERE c.msisdn = p_msisdn AND c.status = 'answered'
			  ORDER BY c.answered_at DESC, c.id DESC LIMIT 1))
$$;

-------------------------------------------------------------------------
-- Classification as people type. pakn.untype undoes what phones and
-- keyboards leave in a message (Telex and VNI tone keys, numbers of any
-- size); pakn.category_of classifies the result with pakn.classify,
-- except that a keyword of a sensitive category wins over any other: a
-- bribe asked for a land title is a bribe, whatever its length.
-------------------------------------------------------------------------

-- Folded text (pakn.fold) with typing habits undone: VNI tone digits
-- after a letter ("pha3n a1nh", "d9"), Telex tone keys at a word's end
-- (s f r x j: no Vietnamese word ends so) and doubled letters (dd aa ee
-- oo, aw ow uw; w after a consonant is ư), and any number written 0 ("5 triệu", "2,5tr", "500k"
-- become "0 trieu", "0tr", "0k") so keywords can name an amount.
CREATE FUNCTION pakn.untype(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(
		regexp_replace(regexp_replace(regexp_replace(regexp_replace(
		regexp_replace(pakn.fold(s),
		'([a-z])[1-9]+(?=[a-z]|[^a-z0-9]|$)', '\1', 'g'),
		'([a-z][a-z])[sfrxj](?=[^a-z0-9]|$)', '\1', 'g'),
		'dd', 'd', 'g'),
		'([aeo])\1', '\1', 'g'),
		'([aou])w', '\1', 'g'),
		'([b-df-hj-np-tv-z])w', '\1u', 'g'),
		'[0-9]+([.,][0-9]+)*', '0', 'g'),
		'\m0 ?(trieu|tr|nghin|ngan|k|cu|lit|xi)\M', '0 \1', 'g')
$$;

-- pakn.fold_words of untyped text.
CREATE FUNCTION pakn.untype_words(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ' ' || btrim(regexp_replace(pakn.untype(s), '[^a-z0-9]+', ' ',
		'g')) || ' '
$$;

-- The part of a text the classifier reads: its first 3 000 characters,
-- cut at a word (as pakn.classify_words of 011 reads at most 300 words),
-- so that no message costs more than a short one to classify.
CREATE FUNCTION pakn.classify_head(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE WHEN length(p_text) <= 3000 THEN p_text
		    ELSE regexp_replace(left(p_text, 3000), '\S*$', '') END
$$;

-- A category's keywords untyped (pakn.untype_words), kept with the
-- category when it is written: every message is compared with them, and
-- untyping them per message cost 8 ms.
CREATE FUNCTION pakn.untyped_patterns(keywords text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(p), '{}') FROM (
		SELECT pakn.untype_words(k) AS p FROM unnest(keywords) k) x
	 WHERE p <> '  '
$$;
ALTER TABLE pakn.category ADD COLUMN untyped text[]
	GENERATED ALWAYS AS (pakn.untyped_patterns(keywords)) STORED;
COMMENT ON COLUMN pakn.category.untyped IS
	'keywords as pakn.untype_words writes them (sensitive categories match on these)';

-- The sensitive category whose keyword the text holds (the longest), or
-- NULL. The text is untyped once; the keywords were when written. These
-- three are PL/pgSQL so that their plans are kept: as SQL functions they
-- were planned again for every message (2.8 ms of 3 ms).
CREATE FUNCTION pakn.sensitive_category(p_text text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text := pakn.untype_words(pakn.classify_head(p_text));
	v text;
BEGIN
	SELECT c.code INTO v
	  FROM pakn.category c, unnest(c.untyped) u
	 WHERE c.sensitive AND strpos(w, u) > 0
	 ORDER BY length(u) DESC, c.code
	 LIMIT 1;
	RETURN v;
END;
$$;

-- The category of a citizen's text: a sensitive one if any of its
-- keywords is there, else pakn.classify of the text, else pakn.classify
-- of the untyped text.
CREATE FUNCTION pakn.category_of(p_text text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	h text := pakn.classify_head(p_text);
BEGIN
	RETURN coalesce(pakn.sensitive_category(h),
		nullif(pakn.classify(h), 'general'),
		pakn.classify(pakn.untype(h)));
END;
$$;

-- Does the text fit no category (pakn.category_of gave 'general' without
-- a keyword of it)?
CREATE FUNCTION pakn.fits_no_category(p_text text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	h text := pakn.classify_head(p_text);
BEGIN
	RETURN pakn.category_of(h) = 'general'
	   AND NOT EXISTS (SELECT 1 FROM pakn.category c, unnest(c.patterns) k
		WHERE c.code = 'general'
		  AND strpos(pakn.fold_words(pakn.untype(h)), k) > 0);
END;
$$;

-- A complaint that fits no category waits for the receiving unit to
-- classify it (triage) instead of passing silently as 'general'.
ALTER TABLE pakn.complaint ADD COLUMN triage boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pakn.complaint.triage IS
	'fits no category: the receiving unit classifies it (POST .../classify)';
CREATE INDEX complaint_triage_idx ON pakn.complaint (responsible_unit)
	WHERE triage AND status = 'open';

-- A new complaint from a citizen (pakn.complaint_new of 004): classified
-- by pakn.category_of (sensitive keywords first, typing habits undone),
-- and left to triage when it fits no category. Returns the number of SMS
-- queued.
CREATE OR REPLACE FUNCTION pakn.complaint_new(p_gateway text, p_msisdn text,
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
	 WHERE code = pakn.category_of(p_text);
	v_ticket := pakn.ticket_encode(nextval('pakn.ticket_seq'));
	INSERT INTO pakn.complaint (ticket, msisdn, gateway, inbound_id,
		category_code, dimension, sensitive, status, text, triage)
	VALUES (v_ticket, p_msisdn, p_gateway, p_inbound, v_cat.code,
		v_cat.dimension, v_cat.sensitive, 'needs_location', p_text,
		v_cat.code = 'general' AND pakn.fits_no_category(p_text))
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

-- Reports of bribery, extortion, embezzlement, nepotism and abuse of
-- office as people write them (matched untyped, so with or without
-- diacritics; an amount is any number: "đòi 5 triệu" matches "doi
-- 10tr"). Words that are ordinary on their own ("vòi" is also a tap and,
-- folded, "với"; "người nhà" and "bồi dưỡng" have innocent uses) appear
-- only in phrases.
UPDATE pakn.category SET keywords = '{tham nhũng,tiêu cực,hối lộ,ăn hối lộ,nhận hối lộ,đưa hối lộ,lót tay,tiền lót tay,phong bì,phong bao,bôi trơn,tiền cà phê,tiền bồi dưỡng,phải bồi dưỡng,bồi dưỡng thêm,đòi bồi dưỡng,bồi dưỡng cho cán bộ,xin tiền,vòi tiền,vòi vĩnh,vòi quà,vòi 2 chỉ,đòi tiền,đòi quà,phải có quà,đòi 5 triệu,đòi 5tr,đòi 500k,đòi 500 nghìn,xin 5 triệu,xin 5tr,đưa tiền,đưa 5 triệu,nộp 5 triệu để,nộp 5tr để,chi tiền mới,5 triệu mới,5tr mới,500k mới,làm luật,ăn tiền,nhận tiền rồi,nhận tiền của,nhận tiền chạy,nhận tiền làm ngơ,làm ngơ cho,chạy việc,chạy chức,chạy trường,chạy án,chạy sổ,chạy dự án,tiền chạy,mua chức,bán chức,bán suất,bảo kê,nhũng nhiễu,sách nhiễu,tham ô,biển thủ,ăn chặn,cắt xén,bớt xén,ăn bớt,xà xẻo,rút ruột,chiếm đoạt,khai khống,trục lợi,thâu tóm,người nhà chủ tịch,người nhà của chủ tịch,người nhà lãnh đạo,người nhà của lãnh đạo,người nhà cán bộ,toàn người nhà,cho người nhà,con ông cháu cha,con cháu lãnh đạo,lạm quyền,lộng quyền,lạm dụng chức vụ,lợi dụng chức vụ,bao che,làm giả giấy tờ,làm sai lệch hồ sơ}'
 WHERE code = 'corruption';

-- The other categories: phrases people use, abbreviations (ko, k, cb)
-- and fewer bare words that mislead ("điện" is also in "điện thoại").
UPDATE pakn.category SET keywords = array_remove(array_remove(keywords,
	'điện'), 'dien') || '{tiền điện,điện yếu,điện chập chờn,cột điện,dây điện,trạm biến áp,chập điện,không có điện,điện lực,đường dây điện}'
 WHERE code = 'electricity';
UPDATE pakn.category SET keywords = keywords || '{xác nhận tình trạng hôn nhân,tình trạng hôn nhân,trích lục,khai tử,đăng ký khai sinh,đăng ký kết hôn,bản sao}'
 WHERE code = 'certification';
UPDATE pakn.category SET keywords = keywords || '{tiền nước,nước sinh hoạt,giếng khoan,đường ống nước,nhiễm phèn}'
 WHERE code = 'clean_water';
UPDATE pakn.category SET keywords = keywords || '{cấp phép,cấp phép sửa chữa,sửa chữa nhà,xây nhà,xây dựng không phép,xây lấn}'
 WHERE code = 'construction_permit';
UPDATE pakn.category SET keywords = keywords || '{ngập úng,mưa to là ngập,nước mưa,rãnh thoát nước}'
 WHERE code = 'flooding';
UPDATE pakn.category SET keywords = keywords || '{ko trả lời,k trả lời,chưa trả lời,không phản hồi,ko phản hồi,cb xã,thái độ phục vụ,quát mắng,quát tháo,coi thường dân,chơi điện thoại,hẹn mai hẹn mốt,đi làm muộn,không có ai,tiếp dân,say rượu}'
 WHERE code = 'official_conduct';
UPDATE pakn.category SET keywords = keywords || '{cho học sinh,giáo viên chủ nhiệm,bán trú,lớp học,sách giáo khoa,học thêm}'
 WHERE code = 'primary_school';
UPDATE pakn.category SET keywords = keywords || '{đua xe,cướp giật,trộm cắp,trộm chó,bảo vệ an ninh,tụ tập}'
 WHERE code = 'public_security';
UPDATE pakn.category SET keywords = keywords || '{cầu tạm,cầu tạm qua suối,sập cầu,đường đất,biển báo,lầy lội,sụt lún,đường liên xã,đường thôn}'
 WHERE code = 'roads';
UPDATE pakn.category SET keywords = keywords || '{rác ngập ngụa,đổ rác,đổ rác bừa bãi,rác xây dựng,dọn rác}'
 WHERE code = 'waste';
UPDATE pakn.category SET keywords = keywords || '{cấp đổi sổ đỏ,sang tên sổ đỏ,đo đạc,lấn chiếm đất,sổ đỏ của}'
 WHERE code = 'land_certificate';
UPDATE pakn.category SET keywords = keywords || '{khai thác đá,khai thác trái phép,sạt lở núi,chặt gỗ,lâm tặc,rừng tự nhiên,phá rừng,hút cát,đào đất trái phép}'
 WHERE code = 'natural_resources';
UPDATE pakn.category SET keywords = keywords || '{tiền cho cán bộ,không qua thi tuyển}'
 WHERE code = 'corruption';

-------------------------------------------------------------------------
-- Triage in the officials' API: GET /v1/complaints?status=triage lists
-- the open complaints that fit no category; POST .../classify
-- {"category", "reason"} files one (any open complaint, in fact) in a
-- category; a sensitive one moves to the inspection unit at once.
-------------------------------------------------------------------------

-- Why a complaint may not be classified in p_category now, or NULL.
CREATE FUNCTION pakn.api_classify_check(c pakn.complaint, p_category text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE
	WHEN p_category IS NULL THEN pakn.api_error(400, 'bad_request',
		'category: required, the code of a category')
	WHEN NOT EXISTS (SELECT 1 FROM pakn.category WHERE code = p_category)
	THEN pakn.api_error(400, 'bad_request',
		format('category: unknown category "%s"', p_category))
	WHEN c.status <> 'open' THEN pakn.api_error(409, 'conflict',
		format('complaint %s is %s; only open ones can be classified',
			c.ticket, c.status))
	END
$$;

-- File a complaint in a category (an official's decision, in the
-- ledger); it leaves triage. A sensitive category takes it to the
-- inspection unit (pakn.route), away from the unit that had it. The due
-- date stays. Returns the number of SMS queued.
CREATE FUNCTION pakn.complaint_classify(p_id bigint, p_actor_id text,
	p_category text, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	cat pakn.category;
	v_from text;
	v_unit text;
BEGIN
	SELECT * INTO STRICT cat FROM pakn.category WHERE code = p_category;
	SELECT category_code INTO v_from FROM pakn.complaint WHERE id = p_id;
	UPDATE pakn.complaint SET category_code = cat.code,
		dimension = cat.dimension, sensitive = cat.sensitive, triage = false
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'classified', p_reason,
		jsonb_build_object('category', cat.code, 'from', v_from));
	v_unit := pakn.route(cat.code, c.location_unit);
	IF cat.sensitive AND v_unit IS DISTINCT FROM c.responsible_unit THEN
		RETURN pakn.complaint_transfer(p_id, 'system', NULL, v_unit,
			'báo cáo tham nhũng chuyển cơ quan thanh tra');
	END IF;
	RETURN 0;
END;
$$;

-- Check the filters of a queue; NULL if they are fine, else an error
-- (pakn.api_list_check of 007, with status triage).
CREATE OR REPLACE FUNCTION pakn.api_list_check(p_status text[], p_category text,
	p_dimension integer, p_limit integer, p_offset integer, p_sort text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_bad text;
BEGIN
	SELECT s INTO v_bad FROM unnest(p_status) s
	 WHERE s NOT IN ('needs_location', 'open', 'triage', 'answered',
		'withdrawn', 'rejected', 'closed') LIMIT 1;
	IF v_bad IS NOT NULL THEN
		RETURN pakn.api_error(400, 'bad_request', format('status: unknown '
			'status "%s" (open, triage, answered, rejected, closed, '
			'withdrawn, needs_location)', v_bad));
	ELSIF p_category IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pakn.category
			WHERE code = p_category) THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('category: unknown category "%s"', p_category));
	ELSIF p_dimension IS NOT NULL AND p_dimension NOT BETWEEN 1 AND 8 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'dimension: must be 1 to 8');
	ELSIF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100
			OR p_offset IS NULL OR p_offset < 0 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'limit: 1 to 100, offset: 0 or more');
	ELSIF p_sort IS NOT NULL AND p_sort NOT IN ('due', 'newest') THEN
		RETURN pakn.api_error(400, 'bad_request', 'sort: due or newest');
	END IF;
	RETURN NULL;
END;
$$;

-- GET /v1/complaints: the caller's queue (pakn.api_list of 007, with
-- status triage: the open complaints that fit no category). p_status is
-- one status or a comma-separated list; NULL filters match everything. Sorted by
-- deadline (most urgent first) when only open complaints are asked for
-- or p_sort is 'due', else newest first.
CREATE OR REPLACE FUNCTION pakn.api_list(p_token text, p_status text, p_overdue boolean,
	p_category text, p_dimension integer, p_limit integer, p_offset integer,
	p_sort text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_status text[] := string_to_array(p_status, ',');
	v_due boolean := coalesce(p_sort = 'due', v_status = '{open}'
		OR v_status = '{triage}');
	v_err jsonb;
	v_total bigint;
	v_items jsonb;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	v_err := pakn.api_list_check(v_status, p_category, p_dimension, p_limit,
		p_offset, p_sort);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	END IF;
	WITH hits AS MATERIALIZED (
		SELECT c FROM pakn.complaint c
		 WHERE c.responsible_unit IN (SELECT pakn.api_units(o))
		   AND (v_status IS NULL OR c.status = ANY (v_status)
			OR ('triage' = ANY (v_status) AND c.status = 'open'
			    AND c.triage))
		   AND (p_overdue IS NULL OR pakn.api_overdue(c) = p_overdue)
		   AND (p_category IS NULL OR c.category_code = p_category)
		   AND (p_dimension IS NULL OR c.dimension = p_dimension))
	SELECT (SELECT count(*) FROM hits),
	       (SELECT coalesce(jsonb_agg(pakn.api_complaint(p.c) ORDER BY p.n),
			'[]')
		  FROM (SELECT h.c, row_number() OVER (ORDER BY
				CASE WHEN v_due THEN (h.c).due_at END ASC NULLS LAST,
				(h.c).created_at DESC, (h.c).id DESC) AS n
			  FROM hits h) p
		 WHERE p.n > p_offset AND p.n <= p_offset + p_limit)
	  INTO v_total, v_items;
	RETURN pakn.api_reply(200, jsonb_build_object('total', v_total,
		'limit', p_limit, 'offset', p_offset,
		'sort', CASE WHEN v_due THEN 'due' ELSE 'newest' END,
		'complaints', v_items));
END;
$$;

-- Why an action may not be done now (an error answer), or NULL
-- (pakn.api_act_check of 007, with classify {"category"}).
CREATE OR REPLACE FUNCTION pakn.api_act_check(c pakn.complaint, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_field text := CASE p_action WHEN 'answer' THEN 'text' ELSE 'reason' END;
	v_max integer := CASE p_action WHEN 'answer' THEN 2000 ELSE 500 END;
	v_unit text := pakn.api_arg(p_args, 'unit');
BEGIN
	IF p_action = 'classify' THEN
		RETURN pakn.api_classify_check(c, pakn.api_arg(p_args, 'category'));
	ELSIF pakn.api_arg(p_args, v_field) IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('%s: required, a non-empty string', v_field));
	ELSIF length(p_args->>v_field) > v_max THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('%s: at most %s characters', v_field, v_max));
	ELSIF p_action = 'transfer' AND v_unit IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'unit: required, the code of a unit');
	ELSIF p_action = 'transfer' AND NOT EXISTS (SELECT 1 FROM pakn.unit u
			WHERE u.code = v_unit) THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('unit: no unit has the code "%s"', v_unit));
	ELSIF p_action = 'transfer' AND v_unit = c.responsible_unit THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('unit: the complaint is already with %s', v_unit));
	ELSIF p_action = 'reopen' AND c.status NOT IN ('answered', 'closed',
			'rejected') THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is %s; '
			'only answered, closed or rejected ones can be reopened',
			c.ticket, c.status));
	ELSIF p_action <> 'reopen' AND c.status <> 'open' THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is %s; '
			'only open ones can be %s', c.ticket, c.status,
			CASE p_action WHEN 'answer' THEN 'answered'
				WHEN 'transfer' THEN 'transferred'
				WHEN 'reject' THEN 'rejected' ELSE 'extended' END));
	ELSIF p_action = 'extend' AND c.extended THEN
		RETURN pakn.api_error(409, 'conflict', format('the deadline of %s '
			'was extended already; it can be extended once', c.ticket));
	END IF;
	RETURN NULL;
END;
$$;

-- Do an action through the accountable pakn.complaint_* functions, the
-- official's id in the ledger (pakn.api_do of 007, with classify).
-- Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.api_do(o pakn.official, c pakn.complaint,
	p_action text, p_args jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_actor text := o.id::text;
	v_reason text := pakn.api_arg(p_args, 'reason');
BEGIN
	CASE p_action
	WHEN 'answer' THEN
		RETURN pakn.complaint_answer(c.id, v_actor,
			pakn.api_arg(p_args, 'text'), NULL);
	WHEN 'transfer' THEN
		RETURN pakn.complaint_transfer(c.id, 'official', v_actor,
			pakn.api_arg(p_args, 'unit'), v_reason);
	WHEN 'reject' THEN
		RETURN pakn.complaint_reject(c.id, v_actor, v_reason);
	WHEN 'classify' THEN
		RETURN pakn.complaint_classify(c.id, v_actor,
			pakn.api_arg(p_args, 'category'), v_reason);
	WHEN 'extend' THEN
		RETURN pakn.complaint_extend(c.id, v_actor, v_reason);
	ELSE
		PERFORM pakn.complaint_reopen(c.id, 'official', v_actor, v_reason);
		RETURN pakn.reply(c.gateway, c.msisdn, 'reopened',
			pakn.complaint_vars(c.id), c.id, NULL)
		     + pakn.notify_unit(c.responsible_unit, '{officer}',
			'new_complaint', c.id);
	END CASE;
END;
$$;

-- POST /v1/complaints/{ticket}/{action}: answer {"text"}, transfer
-- {"unit", "reason"}, reject, extend, reopen {"reason"}, classify
-- {"category", "reason"} (pakn.api_act of 007 with classify). Answers the
-- complaint as it is afterwards, with its history.
CREATE OR REPLACE FUNCTION pakn.api_act(p_token text, p_ticket text, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	c pakn.complaint;
	v_err jsonb;
	n integer;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_action IS NULL OR p_action NOT IN ('answer', 'transfer', 'reject',
			'extend', 'reopen', 'classify') THEN
		RETURN pakn.api_error(404, 'not_found', 'no such action');
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	END IF;
	c := pakn.api_find(o, p_ticket, true);
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	END IF;
	v_err := pakn.api_act_check(c, p_action, p_args);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	END IF;
	n := pakn.api_do(o, c, p_action, p_args);
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id), greatest(n, 0));
END;
$$;

-- The reporter of a sensitive report as everyone sees them: "TC-" and 8
-- hex digits of SHA-256(secret, report): one per report, so it cannot be
-- linked to the citizen's pseudonym on other complaints nor to their
-- other reports.
CREATE FUNCTION pakn.api_report_pseudonym(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT 'TC-' || upper(left(encode(sha256(convert_to(s.value
		|| ':sensitive:' || p_id, 'UTF8')), 'hex'), 8))
	  FROM pakn.setting s WHERE s.name = 'pseudonym_secret'
$$;

-- A complaint as the API shows it (pakn.api_complaint of 007): adds
-- whether its due date falls in a year whose days off are provisional,
-- whether it waits for triage, and shows the reporter of a sensitive
-- report as a pseudonym of that report alone.
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
		'triage', c.triage,
		'sensitive', c.sensitive, 'anonymous', c.sensitive,
		'citizen', CASE WHEN c.sensitive
			THEN pakn.api_report_pseudonym(c.id)
			ELSE pakn.api_pseudonym(c.msisdn) END)
	  FROM pakn.category cat, pakn.papi_dimension d
	 WHERE cat.code = c.category_code AND d.code = c.dimension
$$;

-- Fold Vietnamese for matching (pakn.fold of 003): also ð and Ð, which
-- some keyboards type for đ and Đ, as daemon/grammar.c folds them.
CREATE OR REPLACE FUNCTION pakn.fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT translate(lower(regexp_replace(normalize(s, NFD),
		'[\u0300-\u036f]', '', 'g')), 'đĐðÐ', 'dddd')
$$;
-- The stored keyword patterns are folded again.
UPDATE pakn.category SET keywords = keywords;
