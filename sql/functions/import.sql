-- functions/import.sql: CSV imports (paknctl import): every row checked
-- in one transaction, errors name the line.
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

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

-- Upsert categories from pg_temp.import_category(line, code, name,
-- dimension, keywords, sensitive, deadline_days, working_days).
CREATE OR REPLACE FUNCTION pakn.import_categories(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_category ORDER BY line LOOP
		IF r.code IS NULL OR r.code !~ '^[a-z][a-z0-9_]{0,31}$' THEN
			RAISE EXCEPTION 'line %: bad category code "%" (a-z, 0-9, _)',
				r.line, r.code;
		ELSIF coalesce(r.name, '') = '' THEN
			RAISE EXCEPTION 'line %: category % has no name', r.line, r.code;
		ELSIF r.dimension IS NULL OR r.dimension NOT BETWEEN 1 AND 8 THEN
			RAISE EXCEPTION 'line %: dimension must be a PAPI dimension 1 to 8',
				r.line;
		ELSIF r.deadline_days IS NULL OR r.deadline_days NOT BETWEEN 1 AND 365 THEN
			RAISE EXCEPTION 'line %: deadline_days must be 1 to 365', r.line;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_category d
				WHERE d.code = r.code AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: category % appears twice in the file',
				r.line, r.code;
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE c.code IS NULL),
	       count(*) FILTER (WHERE c.code IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_category i
	  LEFT JOIN pakn.category c ON c.code = i.code;
	INSERT INTO pakn.category (code, name, dimension, keywords, sensitive,
		deadline_days, working_days)
	SELECT i.code, i.name, i.dimension, i.keywords, i.sensitive,
	       i.deadline_days, i.working_days
	  FROM pg_temp.import_category i
	ON CONFLICT (code) DO UPDATE SET name = excluded.name,
		dimension = excluded.dimension, keywords = excluded.keywords,
		sensitive = excluded.sensitive,
		deadline_days = excluded.deadline_days,
		working_days = excluded.working_days, updated_at = now();
END;
$$;

-- Upsert routing rules from pg_temp.import_routing(line, category_code,
-- area_code, unit_code); an empty category means any category.
CREATE OR REPLACE FUNCTION pakn.import_routing(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_routing ORDER BY line LOOP
		IF r.category_code IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM pakn.category c WHERE c.code = r.category_code) THEN
			RAISE EXCEPTION 'line %: unknown category %', r.line, r.category_code;
		ELSIF NOT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.code = r.area_code) THEN
			RAISE EXCEPTION 'line %: unknown area_code %', r.line, r.area_code;
		ELSIF NOT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.code = r.unit_code) THEN
			RAISE EXCEPTION 'line %: unknown unit_code %', r.line, r.unit_code;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_routing d
				WHERE d.category_code IS NOT DISTINCT FROM r.category_code
				  AND d.area_code = r.area_code AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: a rule for (%, %) appears twice in the file',
				r.line, coalesce(r.category_code, 'any'), r.area_code;
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE x.id IS NULL),
	       count(*) FILTER (WHERE x.id IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_routing i
	  LEFT JOIN pakn.routing_rule x
	    ON x.category_code IS NOT DISTINCT FROM i.category_code
	   AND x.area_code = i.area_code;
	INSERT INTO pakn.routing_rule (category_code, area_code, unit_code)
	SELECT i.category_code, i.area_code, i.unit_code
	  FROM pg_temp.import_routing i
	ON CONFLICT (category_code, area_code)
	DO UPDATE SET unit_code = excluded.unit_code;
END;
$$;

-- Imports of officials (unit_code,name,phone,role) and holidays
-- (date,kind,name), as in 005.
CREATE OR REPLACE FUNCTION pakn.import_officials(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_official ORDER BY line LOOP
		IF NOT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.code = r.unit_code) THEN
			RAISE EXCEPTION 'line %: unknown unit_code %', r.line, r.unit_code;
		ELSIF coalesce(r.name, '') = '' THEN
			RAISE EXCEPTION 'line %: official has no name', r.line;
		ELSIF r.phone IS NULL THEN
			RAISE EXCEPTION 'line %: official has no phone', r.line;
		ELSIF r.role IS NULL OR r.role NOT IN ('officer', 'leader', 'admin') THEN
			RAISE EXCEPTION 'line %: role "%" is not officer, leader or admin',
				r.line, r.role;
		ELSIF EXISTS (SELECT 1 FROM pg_temp.import_official d
				WHERE d.phone = r.phone AND d.line < r.line) THEN
			RAISE EXCEPTION 'line %: phone % appears twice in the file',
				r.line, r.phone;
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE o.id IS NULL),
	       count(*) FILTER (WHERE o.id IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_official i
	  LEFT JOIN pakn.official o ON o.phone = i.phone;
	INSERT INTO pakn.official (unit_code, name, phone, role)
	SELECT i.unit_code, i.name, i.phone, i.role FROM pg_temp.import_official i
	ON CONFLICT (phone) DO UPDATE SET unit_code = excluded.unit_code,
		name = excluded.name, role = excluded.role, active = true,
		updated_at = now();
END;
$$;

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
CREATE OR REPLACE FUNCTION pakn.import_holidays_check() RETURNS void
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

-- Set inspection units from pg_temp.import_unit (column inspection_unit:
-- empty keeps the unit's). Raises naming the line of a bad one.
CREATE OR REPLACE FUNCTION pakn.import_units_inspection() RETURNS void
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

-- The events accepted, marked_complex and resumed are replayed by
-- pakn.complaint_replay, redefined with every event in 017.

-------------------------------------------------------------------------
-- paknctl import-units: the remote column (yes/no; empty keeps the
-- unit's flag).
-------------------------------------------------------------------------

-- Upsert units (pakn.import_units), then their remote flags.
CREATE OR REPLACE FUNCTION pakn.import_units_remote(OUT inserted integer,
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

-- Set desks from pg_temp.import_unit (column desk_unit: empty keeps the
-- unit's). Raises naming the line of a bad one.
CREATE OR REPLACE FUNCTION pakn.import_units_desk() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v_kind text;
BEGIN
	FOR r IN SELECT * FROM pg_temp.import_unit
		  WHERE desk_unit IS NOT NULL ORDER BY line LOOP
		SELECT kind INTO v_kind FROM pakn.unit WHERE code = r.desk_unit;
		IF v_kind IS NULL THEN
			RAISE EXCEPTION 'line %: unknown desk_unit %', r.line,
				r.desk_unit;
		ELSIF v_kind <> 'department' THEN
			RAISE EXCEPTION 'line %: desk_unit % is a %, not a department (a reception desk: the public service centre or the People''s Committee office)',
				r.line, r.desk_unit, v_kind;
		END IF;
		UPDATE pakn.unit SET desk_unit = r.desk_unit WHERE code = r.code;
	END LOOP;
END;
$$;

-------------------------------------------------------------------------
-- Imports of old names (paknctl import-aliases).
-------------------------------------------------------------------------

-- Check every row of pg_temp.import_alias; raise naming the line.
CREATE OR REPLACE FUNCTION pakn.import_aliases_check() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v_kind text;
	v_dup integer;
BEGIN
	-- The first line repeating an earlier one (set-based: files have
	-- 10 000 lines).
	SELECT min(d.line) INTO v_dup
	  FROM pg_temp.import_alias d JOIN pg_temp.import_alias e
	    ON e.code = d.code AND e.line < d.line
	   AND coalesce(e.old_name, '') = coalesce(d.old_name, '')
	   AND coalesce(e.old_district, '') = coalesce(d.old_district, '');
	FOR r IN SELECT * FROM pg_temp.import_alias ORDER BY line LOOP
		SELECT kind INTO v_kind FROM pakn.unit WHERE code = r.code;
		IF r.code IS NULL THEN
			RAISE EXCEPTION 'line %: code is empty (the commune of today)',
				r.line;
		ELSIF v_kind IS NULL THEN
			RAISE EXCEPTION 'line %: unknown unit % (import today''s units first: paknctl import-units)',
				r.line, r.code;
		ELSIF NOT pakn.commune_level(v_kind) THEN
			RAISE EXCEPTION 'line %: unit % is a %, not a commune, ward or special zone',
				r.line, r.code, v_kind;
		ELSIF r.old_name IS NULL AND r.old_district IS NULL THEN
			RAISE EXCEPTION 'line %: old_name and old_district are both empty',
				r.line;
		ELSIF pakn.place_key(coalesce(r.old_name, r.old_district)) = '' THEN
			RAISE EXCEPTION 'line %: the old name "%" has no letters or digits',
				r.line, coalesce(r.old_name, r.old_district);
		ELSIF r.line = v_dup THEN
			RAISE EXCEPTION 'line %: % (%) -> % appears twice in the file',
				r.line, coalesce(r.old_name, ''),
				coalesce(r.old_district, ''), r.code;
		END IF;
	END LOOP;
END;
$$;

-- Upsert old names from pg_temp.import_alias(line, code, name, old_code,
-- old_name, old_district, old_province_code, old_province, change,
-- source): the columns of the statistics office's conversion table
-- (name, today's name, is for reading only). Returns the number of new
-- rows and of updated ones.
CREATE OR REPLACE FUNCTION pakn.import_aliases(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.import_aliases_check();
	SELECT count(*) FILTER (WHERE a.id IS NULL),
	       count(*) FILTER (WHERE a.id IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_alias i
	  LEFT JOIN pakn.place_alias a ON a.unit_code = i.code
		AND a.old_name IS NOT DISTINCT FROM i.old_name
		AND a.old_district IS NOT DISTINCT FROM i.old_district;
	INSERT INTO pakn.place_alias (unit_code, old_name, old_district,
		old_code, old_province_code, old_province, change, source)
	SELECT i.code, i.old_name, i.old_district, i.old_code,
	       i.old_province_code, i.old_province, i.change, i.source
	  FROM pg_temp.import_alias i ORDER BY i.line
	ON CONFLICT (unit_code, old_name, old_district) DO UPDATE SET
		old_code = excluded.old_code,
		old_province_code = excluded.old_province_code,
		old_province = excluded.old_province, change = excluded.change,
		source = coalesce(excluded.source, pakn.place_alias.source),
		updated_at = now();
END;
$$;

-- paknctl import-services FILE: the temporary table import_service
-- (line, phone, procedure_code, procedure_name, unit, received,
-- returned, on_time, file_id) checked whole, then stored; a file_id
-- already stored for its unit is updated, not doubled.
CREATE OR REPLACE FUNCTION pakn.import_services(OUT inserted integer, OUT updated integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v_why text;
BEGIN
	FOR r IN SELECT i.*, pakn.survey_time(i.received) AS recv,
			pakn.survey_time(i.returned) AS ret,
			pakn.survey_on_time_of(i.on_time) AS ok
		   FROM pg_temp.import_service i ORDER BY i.line LOOP
		v_why := pakn.service_problem(r.unit, r.procedure_code,
			r.procedure_name, r.recv, r.ret, r.ok, r.file_id);
		IF r.phone IS NULL THEN
			v_why := 'phone: missing';
		ELSIF v_why IS NULL AND r.file_id IS NOT NULL AND EXISTS (
				SELECT 1 FROM pg_temp.import_service d
				 WHERE d.unit = r.unit AND d.file_id = r.file_id
				   AND d.line < r.line) THEN
			v_why := format('file_id %s of unit %s appears twice in the file',
				r.file_id, r.unit);
		END IF;
		IF v_why IS NOT NULL THEN
			RAISE EXCEPTION 'line %: %', r.line,
				replace(replace(v_why, 'received_at', 'received'),
					'returned_at', 'returned');
		END IF;
	END LOOP;
	SELECT count(*) FILTER (WHERE s.id IS NULL),
	       count(*) FILTER (WHERE s.id IS NOT NULL)
	  INTO inserted, updated
	  FROM pg_temp.import_service i
	  LEFT JOIN pakn.service_record s ON s.unit_code = i.unit
		AND s.file_id = i.file_id;
	UPDATE pakn.service_record s SET procedure_code = btrim(i.procedure_code),
		procedure_name = btrim(i.procedure_name), msisdn = i.phone,
		received_at = pakn.survey_time(i.received),
		returned_at = pakn.survey_time(i.returned),
		on_time = pakn.survey_on_time_of(i.on_time)
	  FROM pg_temp.import_service i
	 WHERE s.unit_code = i.unit AND s.file_id = i.file_id;
	INSERT INTO pakn.service_record (unit_code, procedure_code,
		procedure_name, msisdn, file_id, received_at, returned_at, on_time,
		source)
	SELECT i.unit, btrim(i.procedure_code), btrim(i.procedure_name), i.phone,
		i.file_id, pakn.survey_time(i.received), pakn.survey_time(i.returned),
		pakn.survey_on_time_of(i.on_time), 'csv'
	  FROM pg_temp.import_service i
	 WHERE i.file_id IS NULL OR NOT EXISTS (SELECT 1 FROM pakn.service_record s
		WHERE s.unit_code = i.unit AND s.file_id = i.file_id);
END;
$$;
