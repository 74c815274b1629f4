-- 005: imports of units, categories and routing rules from CSV. paknctl
-- loads a file's rows into a temporary table (with their line numbers)
-- and calls one of these functions in the same transaction: every row is
-- checked first, errors name the line, and nothing is half-imported.

-- The first unit whose parent chain comes back to itself, if any.
CREATE FUNCTION pakn.unit_cycle() RETURNS text
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE walk(start, parent, depth) AS (
		SELECT u.code, u.parent_code, 0 FROM pakn.unit u
		 WHERE u.parent_code IS NOT NULL
		UNION ALL
		SELECT w.start, u.parent_code, w.depth + 1
		  FROM walk w JOIN pakn.unit u ON u.code = w.parent
		 WHERE w.parent <> w.start AND w.depth < 64 AND u.parent_code IS NOT NULL)
	SELECT start FROM walk WHERE parent = start ORDER BY start LIMIT 1
$$;

-- Upsert units from pg_temp.import_unit(line, code, name, parent_code,
-- kind, phones). Returns the number of new units and of updated ones.
CREATE FUNCTION pakn.import_units(OUT inserted integer, OUT updated integer)
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
				'commune', 'department') THEN
			RAISE EXCEPTION 'line %: kind "%" is not province, district, commune or department',
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
CREATE FUNCTION pakn.import_categories(OUT inserted integer, OUT updated integer)
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
CREATE FUNCTION pakn.import_routing(OUT inserted integer, OUT updated integer)
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
