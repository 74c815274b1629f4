-- functions/places.sql: finding the commune a complaint is about (old
-- and new names, aliases), routing, and the triage desks.
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- The unit responsible for a category at a location (pakn.route of 003):
-- sensitive categories go to the inspection unit (route_sensitive), the
-- others by routing rules and to the commune (route_place).
CREATE OR REPLACE FUNCTION pakn.route(p_category text, p_location text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN CASE WHEN coalesce((SELECT c.sensitive FROM pakn.category c
			WHERE c.code = p_category), false)
		THEN pakn.route_sensitive(p_category, p_location)
		ELSE pakn.route_place(p_category, p_location) END;
END;
$$;

-- The units routing can reach (a rule's unit; else the location's
-- commune, or the location itself above commune level, for a category no
-- rule covers there) whose notices reach no official who can act, with
-- where they fall back to (NULL: nobody) and how many phones that is.
CREATE OR REPLACE FUNCTION pakn.routing_gaps()
RETURNS TABLE (unit_code text, unit_name text, unit_kind text,
	fallback_unit text, fallback_phones integer)
LANGUAGE sql STABLE AS $$
	WITH reach AS (
		SELECT r.unit_code AS code FROM pakn.routing_rule r
		UNION
		SELECT coalesce((SELECT cl.ancestor FROM pakn.unit_closure cl
			  JOIN pakn.unit a ON a.code = cl.ancestor
			 WHERE cl.descendant = u.code AND a.kind = 'commune'
			 ORDER BY cl.depth LIMIT 1), u.code)
		  FROM pakn.unit u
		 WHERE EXISTS (SELECT 1 FROM pakn.category c
			WHERE NOT EXISTS (SELECT 1 FROM pakn.unit_closure cl
				JOIN pakn.routing_rule r ON r.area_code = cl.ancestor
			       WHERE cl.descendant = u.code
				 AND (r.category_code = c.code
				      OR r.category_code IS NULL))))
	SELECT u.code, u.name, u.kind, f.unit, coalesce(f.phones, 0)
	  FROM reach JOIN pakn.unit u ON u.code = reach.code
	  LEFT JOIN LATERAL (SELECT min(n.r_unit) AS unit,
			count(*)::integer AS phones, bool_or(n.r_fallback) AS fb
		  FROM pakn.notice_recipients(u.code, '{officer,leader}') n) f
		ON true
	 WHERE coalesce(f.fb, true)
	 ORDER BY u.code
$$;

-- Is a unit of this kind at commune level (a commune, ward or special
-- zone, whose People's Committee answers by default)?
CREATE OR REPLACE FUNCTION pakn.commune_level(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_kind IN ('commune', 'special_zone')
$$;

-- The People's Committee that answers at a location by default (pakn.route
-- of 003, with special zones at commune level): the rule of the deepest
-- area, a rule for the category over one for any; else the commune-level
-- unit containing the location; else the location itself. One row (unit
-- NULL: no such unit). A plain SQL query, so that a query that names it
-- in FROM with columns as its arguments gets it inlined:
-- pakn.intake_process_batch routes a batch's complaints with it in one
-- statement.
CREATE OR REPLACE FUNCTION pakn.route_places(p_category text, p_location text)
RETURNS TABLE (unit text)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT r.unit_code FROM pakn.unit_ancestors(p_location) a
		   JOIN pakn.routing_rule r ON r.area_code = a.code
		  WHERE r.category_code = p_category OR r.category_code IS NULL
		  ORDER BY a.distance, r.category_code IS NULL, r.id
		  LIMIT 1),
		(SELECT a.code FROM pakn.unit_ancestors(p_location) a
		  WHERE pakn.commune_level(a.kind) ORDER BY a.distance LIMIT 1),
		(SELECT u.code FROM pakn.unit u WHERE u.code = p_location))
$$;

-- pakn.route_places for one complaint. (PL/pgSQL, as the functions it
-- calls per complaint, so that its plan is kept rather than made again
-- for every complaint.)
CREATE OR REPLACE FUNCTION pakn.route_place(p_category text, p_location text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT r.unit FROM pakn.route_places(p_category, p_location) r);
END;
$$;

-- The unit a sensitive report at p_location goes to. The accused are the
-- commune-level unit containing the place and everything under it (or
-- the place itself when it is a department). The first unit that is not
-- one of them: the inspection unit named by the nearest area above the
-- place; a routing rule for the category; the province.
CREATE OR REPLACE FUNCTION pakn.route_sensitive(p_category text, p_location text)
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

-- The kind that folded words name, as written before a place name: full
-- (phuong, xa, dac khu, thi tran, quan, huyen, thi xa, thanh pho, tinh)
-- or abbreviated (p, x, tt, q, h, tx, tp); 'o' for "ở" and "tại" (at),
-- which often come before a place; NULL for other words.
CREATE OR REPLACE FUNCTION pakn.place_kind_of(p_words text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE p_words
		WHEN 'phuong' THEN 'phuong' WHEN 'p' THEN 'phuong'
		WHEN 'xa' THEN 'xa' WHEN 'x' THEN 'xa'
		WHEN 'dac khu' THEN 'dac khu'
		WHEN 'thi tran' THEN 'thi tran' WHEN 'tt' THEN 'thi tran'
		WHEN 'quan' THEN 'quan' WHEN 'q' THEN 'quan'
		WHEN 'huyen' THEN 'huyen' WHEN 'h' THEN 'huyen'
		WHEN 'thi xa' THEN 'thi xa' WHEN 'tx' THEN 'thi xa'
		WHEN 'thanh pho' THEN 'thanh pho' WHEN 'tp' THEN 'thanh pho'
		WHEN 'tinh' THEN 'tinh'
		WHEN 'o' THEN 'o' WHEN 'tai' THEN 'o'
	END
$$;

-- The province a unit is in (itself for a province), or NULL.
CREATE OR REPLACE FUNCTION pakn.place_province(p_code text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	-- PL/pgSQL, so that the plan is kept for the session (see
	-- pakn.legal_rule_for): as LANGUAGE sql it was planned at every call,
	-- 0.15 ms, more than the rest of it.
	RETURN (SELECT a.code FROM pakn.unit_ancestors(p_code) a
		 WHERE a.kind = 'province' ORDER BY a.distance LIMIT 1);
END;
$$;

-- The places a text may name: each run of 1 to 5 words with the kind
-- written before it (NULL when none). p_bare: also runs with no kind
-- before them (a short reply that is only a name).
CREATE OR REPLACE FUNCTION pakn.place_spans(p_words text[], p_bare boolean)
RETURNS TABLE (key text, kind text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT x.key, x.kind FROM (
		SELECT array_to_string(p_words[i:i + n - 1], ' ') AS key,
		       coalesce(CASE WHEN i > 2 THEN pakn.place_kind_of(
				p_words[i - 2] || ' ' || p_words[i - 1]) END,
			CASE WHEN i > 1 THEN pakn.place_kind_of(p_words[i - 1]) END)
			AS kind
		  FROM generate_series(1, least(cardinality(p_words), 300)) i,
		       generate_series(1, 5) n
		 WHERE i + n - 1 <= cardinality(p_words)) x
	 WHERE x.kind IS NOT NULL OR p_bare
$$;

-- May a run of words with this kind written before it (NULL: none)
-- name a commune? Two words or more: after a commune's kind, "ở"/"tại"
-- or nothing. One word: only after phường, đặc khu or thị trấn ("xa" is
-- also "far"). A number ("Phường 12"): after a commune's kind.
CREATE OR REPLACE FUNCTION pakn.place_commune_span(p_key text, p_kind text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	WHEN p_key ~ '^[0-9 ]+$' THEN
		coalesce(p_kind, '') IN ('phuong', 'xa', 'thi tran')
	WHEN strpos(p_key, ' ') = 0 THEN
		coalesce(p_kind, '') IN ('phuong', 'dac khu', 'thi tran')
	ELSE coalesce(p_kind, 'o') IN ('phuong', 'xa', 'dac khu', 'thi tran', 'o')
	END
$$;

-- The communes of today a text names: by today's name (the written kind
-- preferred when it tells them apart), else by an old commune's name,
-- else by an old district's; when an old district is named too, those
-- in it; narrowed by a province named in the text, then by the
-- citizen's home province, when that leaves any. p_whole: the text is a
-- reply to "which commune?", so a short one may be only the name,
-- without its kind. Sorted by name.
CREATE OR REPLACE FUNCTION pakn.place_match(p_text text, p_whole boolean,
	p_msisdn text)
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_words text[] := pakn.place_words(left(p_text, 2000));
	v_keys text[];
	v_kinds text[];
BEGIN
	SELECT array_agg(s.key), array_agg(coalesce(s.kind, ''))
	  INTO v_keys, v_kinds
	  FROM pakn.place_spans(v_words, p_whole AND cardinality(v_words) <= 6) s;
	RETURN pakn.place_match_spans(p_text, v_keys, v_kinds, p_msisdn);
END;
$$;

-- pakn.place_match of a text whose runs of words (p_keys, each with the
-- kind written before it in p_kinds, '' for none) were found already:
-- the processing worker finds them in C (daemon/placespan.c) as
-- pakn.place_spans(pakn.place_words(left(p_text, 2000)), false) gives
-- them, in any order (what follows reads them as sets). p_text is read
-- again only to narrow several candidates by a province it names.
CREATE OR REPLACE FUNCTION pakn.place_match_spans(p_text text, p_keys text[],
	p_kinds text[], p_msisdn text)
RETURNS text[]
LANGUAGE plpgsql STABLE
-- Units and old names by their indexes, whatever the plan: the generic
-- plans kept for a session (pakn.intake_process_batch forces them) were
-- made without statistics of the units' keys once, and read every unit
-- for each run of words (1.3 ms a complaint, the candidates' names 0.5
-- ms more). (A disabled scan still costed: no JIT compilation for it.)
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	v_words text;
	v_dist text[];
	v_codes text[];
	v_home text;
BEGIN
	IF coalesce(cardinality(p_keys), 0) = 0 THEN
		RETURN '{}';
	END IF;
	SELECT array_agg(DISTINCT a.district_key) INTO v_dist
	  FROM pakn.place_alias a, unnest(p_keys, p_kinds) s (k, t)
	 WHERE a.district_key = ANY (p_keys) AND a.district_key = s.k
	   AND s.t IN ('quan', 'huyen', 'thi xa', 'thanh pho');
	v_codes := pakn.place_candidates(p_keys, p_kinds, v_dist);
	-- One (or none): nothing to narrow (the common case).
	IF coalesce(cardinality(v_codes), 0) <= 1 THEN
		RETURN coalesce(v_codes, '{}');
	END IF;
	-- Each candidate's province once, then its name.
	v_words := ' ' || array_to_string(pakn.place_words(left(p_text, 2000)),
		' ') || ' ';
	v_codes := pakn.place_narrow(v_codes, (WITH x AS MATERIALIZED (
			SELECT c, pakn.place_province(c) AS province
			  FROM unnest(v_codes) c)
		SELECT array_agg(x.c) FROM x JOIN pakn.unit p
		    ON p.code = x.province
		 WHERE p.kind = 'province'
		   AND strpos(v_words, ' ' || p.name_key || ' ') > 0));
	IF cardinality(v_codes) > 1 THEN
		SELECT pakn.place_province(home_unit) INTO v_home
		  FROM pakn.citizen WHERE msisdn = p_msisdn;
		v_codes := pakn.place_narrow(v_codes, (SELECT array_agg(c)
			FROM unnest(v_codes) c WHERE pakn.place_province(c) = v_home));
	END IF;
	RETURN coalesce((SELECT array_agg(c ORDER BY u.name, c)
		FROM unnest(v_codes) c JOIN pakn.unit u ON u.code = c), '{}');
END;
$$;

-- The communes of today that runs of words (p_keys, each with the kind
-- written before it, '' for none) name: today's names, else old
-- communes' names; those in the old districts p_dist when there are
-- any; else every commune the old districts became part of. NULL if
-- none.
CREATE OR REPLACE FUNCTION pakn.place_candidates(p_keys text[], p_kinds text[],
	p_dist text[])
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_cur text[] := pakn.place_by_name(p_keys, p_kinds);
	v_old text[];
	v_in_dist text[];
BEGIN
	SELECT array_agg(DISTINCT a.unit_code) INTO v_old
	  FROM pakn.place_alias a, unnest(p_keys, p_kinds) s (k, t)
	 WHERE a.old_key = ANY (p_keys) AND a.old_key = s.k
	   AND pakn.place_commune_span(s.k, nullif(s.t, ''));
	IF p_dist IS NULL THEN
		RETURN coalesce(v_cur, v_old);
	END IF;
	SELECT array_agg(DISTINCT a.unit_code) INTO v_in_dist
	  FROM pakn.place_alias a WHERE a.district_key = ANY (p_dist);
	RETURN coalesce((SELECT array_agg(DISTINCT c)
		FROM unnest(coalesce(v_cur, '{}') || (SELECT array_agg(a.unit_code)
			FROM pakn.place_alias a, unnest(p_keys, p_kinds) s (k, t)
			WHERE a.old_key = ANY (p_keys) AND a.old_key = s.k
			  AND a.district_key = ANY (p_dist)
			  AND pakn.place_commune_span(s.k, nullif(s.t, '')))) c
		WHERE c = ANY (v_in_dist)), v_cur, v_old, v_in_dist);
END;
$$;

-- The commune-level units of today whose name is one of p_keys (NULL
-- if none); when the kind written before the name tells them apart
-- (phường Ba Đình, xã Ba Đình), only those of that kind. (PL/pgSQL, so
-- that the plan is kept for the session: as LANGUAGE sql it was planned
-- at every call.)
CREATE OR REPLACE FUNCTION pakn.place_by_name(p_keys text[], p_kinds text[])
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (WITH hit AS (
		SELECT DISTINCT u.code, s.t = u.name_kind AS same
		  FROM pakn.unit u, unnest(p_keys, p_kinds) s (k, t)
		 WHERE u.name_key = ANY (p_keys)
		   AND u.name_key = s.k
		   AND pakn.commune_level(u.kind)
		   AND pakn.place_commune_span(s.k, nullif(s.t, '')))
	SELECT array_agg(DISTINCT h.code) FROM hit h
	 WHERE h.same OR NOT EXISTS (SELECT 1 FROM hit x WHERE x.same));
END;
$$;

-- What pakn.place_match_spans finds for runs of words (p_keys, each with
-- the kind written before it in p_kinds, '' for none) when it finds it
-- without the text: when no old district is named and the runs name one
-- commune or none (the common case), found and its code (or none);
-- else not found (NULL codes): pakn.place_match_spans then. The
-- communes of today by name (pakn.place_by_name: those of the kind
-- written, if any), else the old communes' (pakn.place_candidates).
-- SQL, so that a statement over many complaints inlines it
-- (pakn.intake_process_batch): a call of pakn.place_match_spans a
-- complaint, four statements each, cost 104 us a complaint in a drain
-- by name. check_places compares the two over every sample commune's
-- names, old names and districts.
CREATE OR REPLACE FUNCTION pakn.place_named(p_keys text[], p_kinds text[])
RETURNS TABLE (codes text[], found boolean)
LANGUAGE sql STABLE AS $$
	-- (The names by their indexes: "= ANY (p_keys)" as in the
	-- functions'. OFFSET 0: the codes and the district's test once,
	-- not once for each use.)
	SELECT CASE WHEN x.ok THEN x.codes END, x.ok
	  FROM (SELECT c.codes, cardinality(c.codes) <= 1 AND NOT EXISTS (
			SELECT 1 FROM unnest(p_keys, p_kinds) s (k, t)
			  JOIN pakn.place_alias a ON a.district_key = s.k
			 WHERE a.district_key = ANY (p_keys)
			   AND s.t IN ('quan', 'huyen', 'thi xa', 'thanh pho')) AS ok
		  FROM (SELECT coalesce(
			(SELECT array_agg(DISTINCT h.code)
			   FROM (SELECT u.code, bool_or(s.t = u.name_kind)
					OVER () AS any_same, s.t = u.name_kind AS same
				   FROM unnest(p_keys, p_kinds) s (k, t)
				   JOIN pakn.unit u ON u.name_key = s.k
				  WHERE u.name_key = ANY (p_keys)
				    AND pakn.commune_level(u.kind)
				    AND pakn.place_commune_span(s.k, nullif(s.t, ''))) h
			  WHERE h.same OR NOT coalesce(h.any_same, false)),
			(SELECT array_agg(DISTINCT a.unit_code)
			   FROM unnest(p_keys, p_kinds) s (k, t)
			   JOIN pakn.place_alias a ON a.old_key = s.k
			  WHERE a.old_key = ANY (p_keys)
			    AND pakn.place_commune_span(s.k, nullif(s.t, ''))),
			'{}') AS codes OFFSET 0) c OFFSET 0) x
$$;

-- The codes of p_codes that are in p_keep, when there are any; else
-- p_codes unchanged. (PL/pgSQL: as pakn.place_by_name.)
CREATE OR REPLACE FUNCTION pakn.place_narrow(p_codes text[], p_keep text[])
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN coalesce((SELECT array_agg(c) FROM unnest(p_codes) c
		WHERE c = ANY (p_keep)), p_codes);
END;
$$;

-- A unit's name as a choice list shows it: the kind shortened (P., X.,
-- ĐK) and the province without its kind ("P.Ba Đình (Hà Nội)").
CREATE OR REPLACE FUNCTION pakn.place_label(p_code text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(u.name,
		'^Phường ', 'P.'), '^Xã ', 'X.'), '^Đặc khu ', 'ĐK ')
		|| coalesce(' (' || regexp_replace(p.name,
			'^(Thành phố|Tỉnh) ', '') || ')', '')
	  FROM pakn.unit u
	  LEFT JOIN pakn.unit p ON p.code = pakn.place_province(u.code)
		AND p.code <> u.code
	 WHERE u.code = p_code
$$;

-- The complaint whose place choice a citizen's digit answers: the newest
-- pending question (its complaint still without a place) asked after
-- any rating question still open; NULL when a digit is a rating.
CREATE OR REPLACE FUNCTION pakn.place_choice_pending(p_msisdn text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT pc.complaint_id FROM pakn.place_choice pc
	  JOIN pakn.complaint c ON c.id = pc.complaint_id
	 WHERE pc.msisdn = p_msisdn AND pc.chosen IS NULL
	   AND c.status = 'needs_location'
	   AND coalesce(pakn.rating_asked_last(p_msisdn) <= pc.asked_at, true)
	 ORDER BY pc.asked_at DESC, pc.complaint_id DESC LIMIT 1
$$;

-- Ask the citizen which of several communes a complaint is about: a
-- numbered list (at most 5, digits 1-5, one or two SMS parts), or, for
-- more, to name the province or old district. Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.place_ask(p_id bigint, p_codes text[], p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id;
	IF cardinality(p_codes) > 5 THEN
		RETURN pakn.reply(c.gateway, c.msisdn, 'ask_place_more',
			jsonb_build_object('ticket', c.ticket,
				'n', cardinality(p_codes),
				'example', pakn.example_commune()), p_id, p_inbound);
	END IF;
	INSERT INTO pakn.place_choice (complaint_id, msisdn, candidates)
	VALUES (p_id, c.msisdn, p_codes)
	ON CONFLICT (complaint_id) DO UPDATE SET candidates = excluded.candidates,
		asked_at = now(), chosen = NULL, chosen_at = NULL;
	PERFORM pakn.ledger(p_id, 'system', NULL, 'place_asked', NULL,
		jsonb_build_object('candidates', to_jsonb(p_codes)));
	RETURN pakn.reply(c.gateway, c.msisdn, 'ask_place_choice',
		jsonb_build_object('ticket', c.ticket, 'n', cardinality(p_codes),
			'choices', (SELECT string_agg(i || ' ' || pakn.place_label(x),
				', ' ORDER BY i)
			  FROM unnest(p_codes) WITH ORDINALITY t (x, i))),
		p_id, p_inbound);
END;
$$;

-- A complaint's place is known (by name or by choice): ledger it and
-- route the complaint. Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.place_found(p_id bigint, p_unit text, p_how text,
	p_template text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.ledger(p_id, 'citizen', NULL, 'located', NULL,
		jsonb_build_object('unit', p_unit, 'how', p_how));
	RETURN pakn.complaint_route(p_id, p_unit, p_template, p_inbound);
END;
$$;

-- Locate a new complaint that named no unit's code and route it, or ask
-- where it happened: the communes its text names (one: routed; several:
-- the citizen chooses, unless one is their registered commune); else the
-- registered commune; else the question. Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_locate(p_id bigint, p_msisdn text,
	p_text text, p_unit text, p_keyword boolean, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_home text;
	v_codes text[];
	v_ack text := CASE WHEN p_keyword THEN 'ack' ELSE 'ack_nokeyword' END;
	c pakn.complaint;
BEGIN
	SELECT home_unit INTO v_home FROM pakn.citizen WHERE msisdn = p_msisdn;
	v_codes := pakn.place_match(p_text, false, p_msisdn);
	IF cardinality(v_codes) = 1 OR v_home = ANY (v_codes) THEN
		RETURN pakn.place_found(p_id, CASE WHEN cardinality(v_codes) = 1
			THEN v_codes[1] ELSE v_home END, 'name', v_ack, p_inbound);
	ELSIF cardinality(v_codes) > 1 THEN
		RETURN pakn.place_ask(p_id, v_codes, p_inbound);
	ELSIF v_home IS NOT NULL THEN
		RETURN pakn.complaint_route(p_id, v_home, v_ack, p_inbound);
	END IF;
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id;
	RETURN pakn.reply(c.gateway, p_msisdn, CASE WHEN p_keyword
		THEN 'ask_location' ELSE 'ask_location_nokeyword' END,
		jsonb_build_object('ticket', c.ticket,
			'example', pakn.example_commune()), p_id, p_inbound);
END;
$$;

-- The desk of the nearest unit at or above p_unit that names one.
CREATE OR REPLACE FUNCTION pakn.desk_of(p_unit text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT u.desk_unit FROM pakn.unit_ancestors(p_unit) a
	  JOIN pakn.unit u ON u.code = a.code
	 WHERE u.desk_unit IS NOT NULL ORDER BY a.distance LIMIT 1
$$;

-- Is p_unit some province's triage desk?
CREATE OR REPLACE FUNCTION pakn.is_desk(p_unit text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.desk_unit = p_unit)
$$;

-- The unit that receives a complaint at p_location (pakn.route), or the
-- triage desk when the complaint fits no category, its place is a
-- commune (not a unit the citizen addressed, such as the province) and
-- a desk covers it.
CREATE OR REPLACE FUNCTION pakn.route_received(c pakn.complaint, p_location text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN coalesce(CASE WHEN c.triage AND NOT c.sensitive
			AND pakn.commune_level((SELECT u.kind FROM pakn.unit u
				WHERE u.code = p_location))
		THEN pakn.desk_of(p_location) END,
		pakn.route(c.category_code, p_location));
END;
$$;

-- The desk a complaint without a place goes to: the one desk of the
-- communes it was asked to choose among; else the desk of the place of
-- the citizen's last located complaint; else p_default; else the only
-- desk there is. NULL when none applies.
CREATE OR REPLACE FUNCTION pakn.desk_for_unplaced(c pakn.complaint, p_default text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT min(pakn.desk_of(x)) FROM pakn.place_choice pc,
			unnest(pc.candidates) x
		  WHERE pc.complaint_id = c.id
		 HAVING count(DISTINCT coalesce(pakn.desk_of(x), '')) = 1),
		(SELECT pakn.desk_of(o.location_unit) FROM pakn.complaint o
		  WHERE o.msisdn = c.msisdn AND o.location_unit IS NOT NULL
		  ORDER BY o.id DESC LIMIT 1),
		(SELECT u.code FROM pakn.unit u
		  WHERE u.code = nullif(p_default, '') AND pakn.is_desk(u.code)),
		(SELECT min(u.desk_unit) FROM pakn.unit u
		 HAVING count(DISTINCT u.desk_unit) = 1))
$$;

-- Hand a complaint without a place to a desk: open there, counted as
-- received by it (the 'routed' event), due by its category from receipt;
-- the citizen and the desk are told. Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_to_desk(p_id bigint, p_desk text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET status = 'open', responsible_unit = p_desk,
		routed_at = now(), due_at = pakn.due_at(category_code, created_at),
		desk_reason = 'no_place'
	 WHERE id = p_id AND status = 'needs_location' RETURNING * INTO c;
	IF c.id IS NULL THEN
		RETURN 0;
	END IF;
	PERFORM pakn.ledger(p_id, 'system', NULL, 'routed', 'no place given',
		jsonb_build_object('location', NULL, 'unit', p_desk,
			'due_at', c.due_at, 'desk', 'no_place'));
	PERFORM pakn.ledger(p_id, 'system', NULL, 'assigned', NULL,
		jsonb_build_object('unit', p_desk));
	RETURN pakn.reply(c.gateway, c.msisdn, 'desk_no_place',
		pakn.complaint_vars(p_id), p_id, NULL)
	     + pakn.notify_unit(p_desk, '{officer,leader}', 'new_complaint', p_id);
END;
$$;

-- The location timeout: complaints still without a place p_wait_hours
-- after they came go to a desk (pakn.desk_for_unplaced), each once; one
-- instance at a time (advisory lock). Returns what it did; stuck: those
-- no desk covers.
CREATE OR REPLACE FUNCTION pakn.desk_run(p_wait_hours integer, p_default text,
	p_limit integer,
	OUT locked boolean, OUT moved integer, OUT stuck integer,
	OUT sms integer)
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_desk text;
BEGIN
	moved := 0; stuck := 0; sms := 0;
	locked := pg_try_advisory_xact_lock(7141749);
	IF NOT locked THEN
		RETURN;
	END IF;
	-- Those no desk covers are counted, not taken: they must not hold
	-- the others back.
	SELECT count(*) INTO stuck FROM pakn.complaint w
	 WHERE w.status = 'needs_location'
	   AND w.created_at <= now() - make_interval(hours => p_wait_hours)
	   AND pakn.desk_for_unplaced(w, p_default) IS NULL;
	FOR c IN SELECT * FROM pakn.complaint w
		  WHERE w.status = 'needs_location'
		    AND w.created_at <= now() - make_interval(hours => p_wait_hours)
		    AND pakn.desk_for_unplaced(w, p_default) IS NOT NULL
		  ORDER BY w.created_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		v_desk := pakn.desk_for_unplaced(c, p_default);
		sms := sms + pakn.complaint_to_desk(c.id, v_desk);
		moved := moved + 1;
	END LOOP;
END;
$$;

-- Queue a template about a complaint, with extra variables, to a desk's
-- notice recipients (pakn.notice_recipients). Returns the number queued.
CREATE OR REPLACE FUNCTION pakn.desk_notify(p_desk text, p_id bigint, p_template text,
	p_extra jsonb)
RETURNS integer
LANGUAGE sql AS $$
	SELECT coalesce(sum(pakn.reply(c.gateway, n.r_phone, p_template,
		pakn.vars(p_id, p_extra), p_id, NULL, true)), 0)::integer
	  FROM pakn.complaint c,
	       pakn.notice_recipients(p_desk, '{officer,leader}') n
	 WHERE c.id = p_id
$$;

-- A unit sends a complaint back to the desk of its place (or of the
-- unit's province when it has no place), with the reason: ledgered as
-- sent_back and transferred (so statistics count it as a transfer out);
-- the desk is told. Returns the SMS queued, -1 when no desk covers it.
CREATE OR REPLACE FUNCTION pakn.complaint_send_back(p_id bigint, p_actor text,
	p_actor_id text, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_desk text;
	v_detail jsonb;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_desk := coalesce(pakn.desk_of(c.location_unit),
		pakn.desk_of(c.responsible_unit));
	IF v_desk IS NULL OR v_desk = c.responsible_unit THEN
		RETURN -1;
	END IF;
	UPDATE pakn.complaint SET responsible_unit = v_desk,
		desk_reason = 'sent_back', desk_note = p_reason
	 WHERE id = p_id;
	v_detail := jsonb_build_object('from', c.responsible_unit, 'to', v_desk);
	PERFORM pakn.ledger(p_id, p_actor, p_actor_id, 'sent_back', p_reason,
		v_detail);
	PERFORM pakn.ledger(p_id, p_actor, p_actor_id, 'transferred', p_reason,
		v_detail);
	RETURN pakn.desk_notify(v_desk, p_id, 'desk_sent_back',
		jsonb_build_object('reason', p_reason, 'from_unit',
			(SELECT name FROM pakn.unit WHERE code = c.responsible_unit)));
END;
$$;

-- The desk forwards a complaint: its place and category set (each
-- change ledgered), to the unit routing names there, with a deadline
-- counted from now; the citizen and the unit are told. Returns the SMS
-- queued.
CREATE OR REPLACE FUNCTION pakn.complaint_forward(p_id bigint, p_actor_id text,
	p_place text, p_category text, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	cat pakn.category;
	v_place text;
	v_unit text;
	v_desk text;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	SELECT * INTO STRICT cat FROM pakn.category
	 WHERE code = coalesce(p_category, c.category_code);
	v_place := coalesce(p_place, c.location_unit);
	v_desk := c.responsible_unit;
	v_unit := pakn.route(cat.code, v_place);
	IF cat.code <> c.category_code OR c.triage THEN
		PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'classified',
			p_reason, jsonb_build_object('category', cat.code,
				'from', c.category_code));
	END IF;
	IF v_place IS DISTINCT FROM c.location_unit THEN
		PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'located',
			p_reason, jsonb_build_object('unit', v_place, 'how', 'desk'));
	END IF;
	UPDATE pakn.complaint SET location_unit = v_place,
		category_code = cat.code, dimension = cat.dimension,
		sensitive = cat.sensitive, triage = false,
		responsible_unit = v_unit, due_at = pakn.due_at(cat.code, now()),
		overdue = false, reminded_at = NULL, escalated_at = NULL,
		apologized_at = NULL, new_due_at = NULL,
		desk_reason = NULL, desk_note = NULL
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'transferred',
		p_reason, jsonb_build_object('from', v_desk, 'to', v_unit));
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'forwarded', p_reason,
		jsonb_build_object('from', v_desk, 'location', v_place,
			'unit', v_unit, 'category', cat.code, 'due_at', c.due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'forwarded',
		pakn.complaint_vars(p_id), p_id, NULL, false)
	     + pakn.notify_unit(v_unit, '{officer,leader}', 'new_complaint', p_id);
END;
$$;
