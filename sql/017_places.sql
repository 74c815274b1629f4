-- 017: places by name and the triage desk (issue 14, first half).
--
-- Places: a complaint's commune is found by its name in the text, folded
-- (any case, with or without diacritics), with or without its kind
-- ("phường Ba Đình", "P. Ba Đình", "xa Thanh Son"), and by the names in
-- use before the 2025 merger (old communes and districts,
-- pakn.place_alias, `paknctl import-aliases`). Several communes of one
-- name: the citizen chooses by number in one SMS (pakn.place_choice);
-- their next digit completes it while the choice is pending.
--
-- Triage desk: each province names a reception desk (unit.desk_unit).
-- Complaints without a place after [deadline] location_wait hours,
-- complaints that fit no category, and complaints a unit sends back land
-- there, counted as received; the desk's officials set place and
-- category and forward them (ledgered, the deadline counted anew).

-------------------------------------------------------------------------
-- Names of places.
-------------------------------------------------------------------------

-- The words of a text, folded (pakn.fold) and split on anything that is
-- not a letter or digit ("P. Ba Đình," -> {p,ba,dinh}).
CREATE FUNCTION pakn.place_words(p_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce(string_to_array(nullif(btrim(regexp_replace(
		pakn.fold(coalesce(p_text, '')), '[^a-z0-9]+', ' ', 'g')), ''),
		' '), '{}')
$$;

-- The kind that folded words name, as written before a place name: full
-- (phuong, xa, dac khu, thi tran, quan, huyen, thi xa, thanh pho, tinh)
-- or abbreviated (p, x, tt, q, h, tx, tp); 'o' for "ở" and "tại" (at),
-- which often come before a place; NULL for other words.
CREATE FUNCTION pakn.place_kind_of(p_words text) RETURNS text
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

-- The kind a unit's name starts with ("Phường Ba Đình" -> phuong), or ''.
CREATE FUNCTION pakn.place_kind(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(substring(array_to_string(pakn.place_words(p_name), ' ')
		FROM '^(dac khu|thi tran|thi xa|thanh pho|phuong|xa|quan|huyen|tinh) '),
		'')
$$;

-- A name as it is looked up: folded words without the kind ("Phường Ba
-- Đình" -> "ba dinh", "Thành phố Hà Nội" -> "ha noi").
CREATE FUNCTION pakn.place_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT regexp_replace(array_to_string(pakn.place_words(p_name), ' '),
		'^(dac khu|thi tran|thi xa|thanh pho|phuong|xa|quan|huyen|tinh) ',
		'')
$$;

CREATE INDEX unit_place_key_idx ON pakn.unit (pakn.place_key(name));

-- Names in use before 1 July 2025: an old commune (old_name) and its
-- district, or a whole old district, and the unit of today it became
-- part of. An old commune split between several new ones has a row for
-- each (ambiguous by name alone). Imported with `paknctl import-aliases`
-- from the statistics office's conversion table (letter 1027/CTK-CSCL).
CREATE TABLE pakn.place_alias (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	unit_code         text NOT NULL REFERENCES pakn.unit (code),
	old_name          text,
	old_district      text,
	old_code          text,
	old_province_code text,
	old_province      text,
	change            text,
	source            text,
	old_key           text GENERATED ALWAYS AS (pakn.place_key(old_name)) STORED,
	old_kind          text GENERATED ALWAYS AS (pakn.place_kind(old_name)) STORED,
	district_key      text GENERATED ALWAYS AS (pakn.place_key(old_district)) STORED,
	updated_at        timestamptz NOT NULL DEFAULT now(),
	CHECK (coalesce(old_name, old_district) IS NOT NULL),
	UNIQUE NULLS NOT DISTINCT (unit_code, old_name, old_district)
);
CREATE INDEX place_alias_old_key_idx ON pakn.place_alias (old_key);
CREATE INDEX place_alias_district_key_idx ON pakn.place_alias (district_key);
COMMENT ON TABLE pakn.place_alias IS
	'names of places before the 2025 merger (old communes, old districts) and the unit of today they became part of';

-- The province a unit is in (itself for a province), or NULL.
CREATE FUNCTION pakn.place_province(p_code text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT a.code FROM pakn.unit_ancestors(p_code) a
	 WHERE a.kind = 'province' ORDER BY a.distance LIMIT 1
$$;

-- The places a text may name: each run of 1 to 5 words with the kind
-- written before it (NULL when none). p_bare: also runs with no kind
-- before them (a short reply that is only a name).
CREATE FUNCTION pakn.place_spans(p_words text[], p_bare boolean)
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
CREATE FUNCTION pakn.place_commune_span(p_key text, p_kind text)
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
CREATE FUNCTION pakn.place_match(p_text text, p_whole boolean,
	p_msisdn text)
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_words text[] := pakn.place_words(left(p_text, 2000));
	v_keys text[];
	v_kinds text[];
	v_dist text[];
	v_codes text[];
	v_home text;
BEGIN
	SELECT array_agg(s.key), array_agg(coalesce(s.kind, ''))
	  INTO v_keys, v_kinds
	  FROM pakn.place_spans(v_words, p_whole AND cardinality(v_words) <= 6) s;
	IF v_keys IS NULL THEN
		RETURN '{}';
	END IF;
	SELECT array_agg(DISTINCT a.district_key) INTO v_dist
	  FROM pakn.place_alias a, unnest(v_keys, v_kinds) s (k, t)
	 WHERE a.district_key = ANY (v_keys) AND a.district_key = s.k
	   AND s.t IN ('quan', 'huyen', 'thi xa', 'thanh pho');
	v_codes := pakn.place_candidates(v_keys, v_kinds, v_dist);
	v_codes := pakn.place_narrow(v_codes, (SELECT array_agg(c)
		FROM unnest(v_codes) c, pakn.unit p
		WHERE p.kind = 'province' AND p.code = pakn.place_province(c)
		  AND strpos(' ' || array_to_string(v_words, ' ') || ' ',
			' ' || pakn.place_key(p.name) || ' ') > 0));
	SELECT pakn.place_province(home_unit) INTO v_home FROM pakn.citizen
	 WHERE msisdn = p_msisdn;
	v_codes := pakn.place_narrow(v_codes, (SELECT array_agg(c)
		FROM unnest(v_codes) c WHERE pakn.place_province(c) = v_home));
	RETURN coalesce((SELECT array_agg(c ORDER BY u.name, c)
		FROM unnest(v_codes) c JOIN pakn.unit u ON u.code = c), '{}');
END;
$$;

-- The communes of today that runs of words (p_keys, each with the kind
-- written before it, '' for none) name: today's names, else old
-- communes' names; those in the old districts p_dist when there are
-- any; else every commune the old districts became part of. NULL if
-- none.
CREATE FUNCTION pakn.place_candidates(p_keys text[], p_kinds text[],
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
-- (phường Ba Đình, xã Ba Đình), only those of that kind.
CREATE FUNCTION pakn.place_by_name(p_keys text[], p_kinds text[])
RETURNS text[]
LANGUAGE sql STABLE AS $$
	WITH hit AS (
		SELECT DISTINCT u.code, s.t = pakn.place_kind(u.name) AS same
		  FROM pakn.unit u, unnest(p_keys, p_kinds) s (k, t)
		 WHERE pakn.place_key(u.name) = ANY (p_keys)
		   AND pakn.place_key(u.name) = s.k
		   AND pakn.commune_level(u.kind)
		   AND pakn.place_commune_span(s.k, nullif(s.t, '')))
	SELECT array_agg(DISTINCT h.code) FROM hit h
	 WHERE h.same OR NOT EXISTS (SELECT 1 FROM hit x WHERE x.same)
$$;

-- The codes of p_codes that are in p_keep, when there are any; else
-- p_codes unchanged.
CREATE FUNCTION pakn.place_narrow(p_codes text[], p_keep text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce((SELECT array_agg(c) FROM unnest(p_codes) c
		WHERE c = ANY (p_keep)), p_codes)
$$;

-- A unit's name as a choice list shows it: the kind shortened (P., X.,
-- ĐK) and the province without its kind ("P.Ba Đình (Hà Nội)").
CREATE FUNCTION pakn.place_label(p_code text) RETURNS text
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

-------------------------------------------------------------------------
-- Choosing among communes of one name.
-------------------------------------------------------------------------

-- The question put to a citizen whose complaint names several communes:
-- the candidates in the order listed (digit 1 is the first).
CREATE TABLE pakn.place_choice (
	complaint_id bigint PRIMARY KEY REFERENCES pakn.complaint (id),
	msisdn       text NOT NULL,
	candidates   text[] NOT NULL CHECK (cardinality(candidates) BETWEEN 2 AND 5),
	asked_at     timestamptz NOT NULL DEFAULT now(),
	chosen       text REFERENCES pakn.unit (code),
	chosen_at    timestamptz
);
CREATE INDEX place_choice_msisdn_idx ON pakn.place_choice (msisdn, asked_at)
	WHERE chosen IS NULL;

INSERT INTO pakn.template (code, body, description) VALUES
	('ask_place_choice', 'Phản ánh {ticket}: có {n} xã/phường tên này. Nhắn số để chọn: {choices}. Hoặc gửi mã xã/phường.',
		'the complaint names several communes: choose one by number'),
	('ask_place_more', 'Phản ánh {ticket}: có {n} xã/phường tên này. Nhắn tên kèm tỉnh hoặc huyện cũ (VD: xã Tân An, Đồng Nai), hoặc mã xã/phường (VD: {example}).',
		'the complaint names more communes than one SMS can list'),
	('desk_no_place', 'Phản ánh {ticket} chưa rõ xã/phường nên đã chuyển {unit} để xác định nơi xử lý. Hạn trả lời: {due}. Tra cứu: TT {ticket}',
		'to the citizen: a complaint without a place went to the triage desk'),
	('forwarded', 'Phản ánh {ticket} đã được chuyển tới {unit}. Hạn trả lời: {due}. Tra cứu: TT {ticket}',
		'to the citizen: the triage desk forwarded the complaint'),
	('desk_sent_back', 'Phản ánh {ticket} ({category}) bị {from_unit} trả lại: {reason}. Xác định nơi xử lý và chuyển tiếp trên trang cán bộ.',
		'to the triage desk: a unit sent a complaint back');

-- Say that names work too wherever a commune is asked for.
UPDATE pakn.template SET body = 'Đã nhận phản ánh, mã {ticket}. Bạn ở xã/phường nào? Nhắn tên xã/phường (VD: phường Ba Đình) hoặc mã (VD: {example}) để chuyển đúng nơi xử lý.'
 WHERE code = 'ask_location';
UPDATE pakn.template SET body = 'Tin của bạn được ghi nhận là phản ánh, mã {ticket}. Bạn ở xã/phường nào? Nhắn tên xã/phường (VD: phường Ba Đình) hoặc mã (VD: {example}) để chuyển đúng nơi xử lý.'
 WHERE code = 'ask_location_nokeyword';
UPDATE pakn.template SET body = 'Phản ánh {ticket} đang chờ xã/phường. Nhắn tên xã/phường hoặc mã (VD: {example}), hoặc PA <nội dung> để gửi phản ánh mới.'
 WHERE code = 'ask_location_again';

-- The complaint whose place choice a citizen's digit answers: the newest
-- pending question (its complaint still without a place) asked after
-- any rating question still open; NULL when a digit is a rating.
CREATE FUNCTION pakn.place_choice_pending(p_msisdn text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT pc.complaint_id FROM pakn.place_choice pc
	  JOIN pakn.complaint c ON c.id = pc.complaint_id
	 WHERE pc.msisdn = p_msisdn AND pc.chosen IS NULL
	   AND c.status = 'needs_location'
	   AND NOT EXISTS (SELECT 1 FROM pakn.complaint r
		WHERE r.msisdn = p_msisdn AND r.status = 'answered'
		  AND r.rating_asked_at > pc.asked_at)
	 ORDER BY pc.asked_at DESC, pc.complaint_id DESC LIMIT 1
$$;

-- Ask the citizen which of several communes a complaint is about: a
-- numbered list (at most 5, digits 1-5, one or two SMS parts), or, for
-- more, to name the province or old district. Returns the SMS queued.
CREATE FUNCTION pakn.place_ask(p_id bigint, p_codes text[], p_inbound bigint)
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
CREATE FUNCTION pakn.place_found(p_id bigint, p_unit text, p_how text,
	p_template text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.ledger(p_id, 'citizen', NULL, 'located', NULL,
		jsonb_build_object('unit', p_unit, 'how', p_how));
	RETURN pakn.complaint_route(p_id, p_unit, p_template, p_inbound);
END;
$$;

-- Locate a new complaint and route it, or ask where it happened: a code
-- in the text; else the communes its text names (one: routed; several:
-- the citizen chooses, unless one is their registered commune); else the
-- registered commune; else the question. Returns the SMS queued.
CREATE FUNCTION pakn.complaint_locate(p_id bigint, p_msisdn text,
	p_text text, p_unit text, p_keyword boolean, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_loc text;
	v_home text;
	v_codes text[];
	v_ack text := CASE WHEN p_keyword THEN 'ack' ELSE 'ack_nokeyword' END;
	c pakn.complaint;
BEGIN
	SELECT code INTO v_loc FROM pakn.unit WHERE code = p_unit;
	IF v_loc IS NOT NULL THEN
		RETURN pakn.complaint_route(p_id, v_loc, v_ack, p_inbound);
	END IF;
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

-- A new complaint from a citizen (pakn.complaint_new of 013): its place
-- found by pakn.complaint_locate (a code, a name, the registered commune,
-- else the question). Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_new(p_gateway text, p_msisdn text,
	p_inbound bigint, p_text text, p_unit text, p_keyword boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
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
	RETURN pakn.complaint_locate(v_id, p_msisdn, p_text, p_unit, p_keyword,
		p_inbound);
END;
$$;

-- A message without keyword while a complaint waits for its place: the
-- commune it names (a short reply may be only the name), one or a choice;
-- else the question again. Returns the SMS queued.
CREATE FUNCTION pakn.sms_place(p_gateway text, p_msisdn text,
	p_pending bigint, p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_codes text[] := pakn.place_match(p_text, true, p_msisdn);
BEGIN
	IF cardinality(v_codes) = 1 THEN
		RETURN pakn.place_found(p_pending, v_codes[1], 'name', 'ack',
			p_inbound);
	ELSIF cardinality(v_codes) > 1 THEN
		RETURN pakn.place_ask(p_pending, v_codes, p_inbound);
	END IF;
	RETURN pakn.reply(p_gateway, p_msisdn, 'ask_location_again',
		jsonb_build_object('ticket', (SELECT ticket FROM pakn.complaint
			WHERE id = p_pending), 'example', pakn.example_commune()),
		p_pending, p_inbound);
END;
$$;

-- A digit answering the place question of complaint p_id: the commune
-- listed under it; a digit past the list asks again. Returns the SMS
-- queued.
CREATE FUNCTION pakn.sms_place_choose(p_id bigint, p_digit integer,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	pc pakn.place_choice;
BEGIN
	SELECT * INTO STRICT pc FROM pakn.place_choice WHERE complaint_id = p_id
	   FOR UPDATE;
	IF p_digit NOT BETWEEN 1 AND cardinality(pc.candidates) THEN
		RETURN pakn.place_ask(p_id, pc.candidates, p_inbound);
	END IF;
	UPDATE pakn.place_choice SET chosen = pc.candidates[p_digit],
		chosen_at = now()
	 WHERE complaint_id = p_id;
	RETURN pakn.place_found(p_id, pc.candidates[p_digit], 'choice', 'ack',
		p_inbound);
END;
$$;

-------------------------------------------------------------------------
-- The triage desk.
-------------------------------------------------------------------------

ALTER TABLE pakn.unit ADD COLUMN desk_unit text
	REFERENCES pakn.unit (code) DEFERRABLE INITIALLY DEFERRED;
COMMENT ON COLUMN pakn.unit.desk_unit IS
	'the reception (triage) desk for complaints about this unit''s territory that have no place or no category, or that a unit sent back';

ALTER TABLE pakn.complaint
	ADD COLUMN desk_reason text CHECK (desk_reason IN ('no_place',
		'no_category', 'sent_back')),
	ADD COLUMN desk_note text;
COMMENT ON COLUMN pakn.complaint.desk_reason IS
	'why the complaint is at a triage desk: no_place, no_category, sent_back (desk_note: the unit''s reason); NULL once forwarded';
CREATE INDEX complaint_waiting_idx ON pakn.complaint (created_at)
	WHERE status = 'needs_location';

-- The desk of the nearest unit at or above p_unit that names one.
CREATE FUNCTION pakn.desk_of(p_unit text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT u.desk_unit FROM pakn.unit_ancestors(p_unit) a
	  JOIN pakn.unit u ON u.code = a.code
	 WHERE u.desk_unit IS NOT NULL ORDER BY a.distance LIMIT 1
$$;

-- Is p_unit some province's triage desk?
CREATE FUNCTION pakn.is_desk(p_unit text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pakn.unit u WHERE u.desk_unit = p_unit)
$$;

-- Set desks from pg_temp.import_unit (column desk_unit: empty keeps the
-- unit's). Raises naming the line of a bad one.
CREATE FUNCTION pakn.import_units_desk() RETURNS void
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

-- The unit that receives a complaint at p_location (pakn.route), or the
-- triage desk when the complaint fits no category, its place is a
-- commune (not a unit the citizen addressed, such as the province) and
-- a desk covers it.
CREATE FUNCTION pakn.route_received(c pakn.complaint, p_location text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(CASE WHEN c.triage AND NOT c.sensitive
			AND pakn.commune_level((SELECT u.kind FROM pakn.unit u
				WHERE u.code = p_location))
		THEN pakn.desk_of(p_location) END,
		pakn.route(c.category_code, p_location))
$$;

-- Route a complaint that knows its location (pakn.complaint_route of
-- 006): one that fits no category goes to the triage desk covering the
-- place, when there is one (pakn.route_received). Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_route(p_id bigint, p_location text,
	p_template text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_unit text;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_unit := pakn.route_received(c, p_location);
	UPDATE pakn.complaint SET location_unit = p_location,
		responsible_unit = v_unit, status = 'open', routed_at = now(),
		due_at = pakn.due_at(c.category_code, c.created_at),
		desk_reason = CASE WHEN c.triage AND pakn.is_desk(v_unit)
			THEN 'no_category' END
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'system', NULL, 'routed', NULL,
		jsonb_build_object('location', p_location, 'unit', v_unit,
			'due_at', c.due_at));
	PERFORM pakn.ledger(p_id, 'system', NULL, 'assigned', NULL,
		jsonb_build_object('unit', v_unit));
	RETURN pakn.reply(c.gateway, c.msisdn, p_template,
		pakn.complaint_vars(p_id), p_id, p_inbound)
	     + pakn.notify_unit(v_unit, '{officer,leader}', 'new_complaint', p_id);
END;
$$;

-- The desk a complaint without a place goes to: the one desk of the
-- communes it was asked to choose among; else the desk of the place of
-- the citizen's last located complaint; else p_default; else the only
-- desk there is. NULL when none applies.
CREATE FUNCTION pakn.desk_for_unplaced(c pakn.complaint, p_default text)
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
CREATE FUNCTION pakn.complaint_to_desk(p_id bigint, p_desk text)
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
CREATE FUNCTION pakn.desk_run(p_wait_hours integer, p_default text,
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
CREATE FUNCTION pakn.desk_notify(p_desk text, p_id bigint, p_template text,
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
CREATE FUNCTION pakn.complaint_send_back(p_id bigint, p_actor text,
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
CREATE FUNCTION pakn.complaint_forward(p_id bigint, p_actor_id text,
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

-- A complaint's state rebuilt from its ledger alone (pakn.complaint_replay
-- of 006, with the desk's forwarding: place, unit and a new deadline).
CREATE OR REPLACE FUNCTION pakn.complaint_replay(p_id bigint,
	OUT status text, OUT responsible_unit text, OUT location_unit text,
	OUT due_at timestamptz, OUT extended boolean, OUT overdue boolean,
	OUT reopen_count integer, OUT close_reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e pakn.complaint_event;
BEGIN
	extended := false; overdue := false; reopen_count := 0;
	FOR e IN SELECT * FROM pakn.complaint_event WHERE complaint_id = p_id
		  ORDER BY id LOOP
		CASE e.event
		WHEN 'received' THEN status := 'needs_location';
		WHEN 'routed' THEN
			status := 'open';
			location_unit := e.detail->>'location';
			responsible_unit := e.detail->>'unit';
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'transferred' THEN responsible_unit := e.detail->>'to';
		WHEN 'forwarded' THEN
			location_unit := e.detail->>'location';
			responsible_unit := e.detail->>'unit';
			due_at := (e.detail->>'due_at')::timestamptz;
			overdue := false;
		WHEN 'extended' THEN
			extended := true;
			due_at := (e.detail->>'due_at')::timestamptz;
		-- 016: the legal clock's steps set the due date too.
		WHEN 'accepted' THEN
			overdue := false;
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'marked_complex', 'resumed' THEN
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'escalated' THEN overdue := true;
		WHEN 'answered' THEN status := 'answered';
		WHEN 'reopened' THEN
			status := 'open';
			reopen_count := reopen_count + 1;
			overdue := false;
			close_reason := NULL;
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'withdrawn' THEN status := 'withdrawn'; close_reason := 'withdrawn';
		WHEN 'rejected' THEN status := 'rejected'; close_reason := 'rejected';
		WHEN 'closed' THEN status := 'closed'; close_reason := e.reason;
		ELSE NULL;
		END CASE;
	END LOOP;
END;
$$;

-------------------------------------------------------------------------
-- The officials' API: send_back {"reason"} (a unit), forward {"place",
-- "category", "reason"} (the desk), GET /v1/desk (the desk's queue).
-------------------------------------------------------------------------

-- Why a desk action may not be done now (an error answer), or NULL.
CREATE FUNCTION pakn.api_desk_check(c pakn.complaint, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_place text := pakn.api_arg(p_args, 'place');
	v_cat text := pakn.api_arg(p_args, 'category');
	v_kind text := (SELECT kind FROM pakn.unit WHERE code = v_place);
BEGIN
	IF c.status <> 'open' THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is %s; '
			'only open ones can be %s', c.ticket, c.status,
			CASE p_action WHEN 'forward' THEN 'forwarded'
				ELSE 'sent back' END));
	ELSIF length(coalesce(p_args->>'reason', '')) > 500 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'reason: at most 500 characters');
	ELSIF p_action = 'send_back' AND pakn.api_arg(p_args, 'reason') IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'reason: required, a non-empty string');
	ELSIF p_action = 'send_back' AND pakn.is_desk(c.responsible_unit) THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is at '
			'the triage desk already; forward it instead', c.ticket));
	ELSIF p_action = 'send_back' THEN
		RETURN NULL;
	ELSIF NOT pakn.is_desk(c.responsible_unit) THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is not '
			'at a triage desk; a unit transfers it instead', c.ticket));
	ELSIF v_place IS NULL AND c.location_unit IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'place: required, the code of the commune where it happened');
	ELSIF v_place IS NOT NULL AND v_kind IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('place: no unit has the code "%s"', v_place));
	ELSIF v_place IS NOT NULL AND NOT pakn.commune_level(v_kind) THEN
		RETURN pakn.api_error(400, 'bad_request', format('place: %s is a '
			'%s, not a commune, ward or special zone', v_place, v_kind));
	ELSIF v_cat IS NULL AND c.triage THEN
		RETURN pakn.api_error(400, 'bad_request',
			'category: required, the complaint fits no category yet');
	ELSIF v_cat IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pakn.category
			WHERE code = v_cat) THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('category: unknown category "%s"', v_cat));
	ELSIF pakn.is_desk(pakn.route(coalesce(v_cat, c.category_code),
			coalesce(v_place, c.location_unit))) THEN
		RETURN pakn.api_error(409, 'conflict',
			'routing names the triage desk itself for this place and category');
	END IF;
	RETURN NULL;
END;
$$;

-- POST /v1/complaints/{ticket}/send_back {"reason"} by the responsible
-- unit, or /forward {"place", "category", "reason"} by the desk. Answers
-- the complaint as it is afterwards, with its history.
CREATE FUNCTION pakn.api_desk_act(p_token text, p_ticket text,
	p_action text, p_args jsonb)
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
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	END IF;
	c := pakn.api_find(o, p_ticket, true);
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	END IF;
	v_err := pakn.api_desk_check(c, p_action, p_args);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	ELSIF p_action = 'forward' THEN
		n := pakn.complaint_forward(c.id, o.id::text,
			pakn.api_arg(p_args, 'place'), pakn.api_arg(p_args, 'category'),
			pakn.api_arg(p_args, 'reason'));
	ELSE
		n := pakn.complaint_send_back(c.id, 'official', o.id::text,
			pakn.api_arg(p_args, 'reason'));
		IF n < 0 THEN
			RETURN pakn.api_error(409, 'conflict', format('no triage desk '
				'covers complaint %s (set desk_unit on its province)',
				c.ticket));
		END IF;
	END IF;
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id), n);
END;
$$;

-- POST /v1/complaints/{ticket}/{action} (pakn.api_act_scoped of 012,
-- with the desk's send_back and forward).
CREATE OR REPLACE FUNCTION pakn.api_act_scoped(p_token text, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official;
BEGIN
	IF p_action IN ('send_back', 'forward') THEN
		RETURN pakn.api_desk_act(p_token, p_ticket, p_action, p_args);
	ELSIF p_action IS NULL OR p_action NOT IN ('transfer', 'accept_transfer',
			'refuse_transfer') THEN
		RETURN pakn.api_act(p_token, p_ticket, p_action, p_args);
	END IF;
	o := pakn.api_auth(p_token);
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	ELSIF p_action = 'transfer' THEN
		RETURN pakn.api_transfer_ask(o, p_token, p_ticket, p_args);
	END IF;
	RETURN pakn.api_transfer_decide(o, p_ticket,
		p_action = 'accept_transfer', p_args);
END;
$$;

-- GET /v1/desk: the triage desks the caller works for (their unit, or
-- the desks in a leader's subtree) and the open complaints waiting there,
-- oldest first (at most 100), each with why it is there.
CREATE FUNCTION pakn.api_desk(p_token text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_desks text[];
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	SELECT array_agg(x ORDER BY x) INTO v_desks FROM pakn.api_units(o) x
	 WHERE pakn.is_desk(x);
	RETURN pakn.api_reply(200, jsonb_build_object(
		'desks', (SELECT coalesce(jsonb_agg(pakn.api_unit(x) ORDER BY x),
			'[]') FROM unnest(v_desks) x),
		'total', (SELECT count(*) FROM pakn.complaint c
			WHERE c.status = 'open' AND c.responsible_unit = ANY (v_desks)),
		'complaints', (SELECT coalesce(jsonb_agg(pakn.api_complaint(c)
				|| jsonb_build_object('desk', jsonb_build_object(
					'reason', coalesce(c.desk_reason, CASE WHEN c.triage
						THEN 'no_category' END),
					'note', c.desk_note))
				ORDER BY c.created_at, c.id), '[]')
			FROM pakn.complaint c
			WHERE c.id IN (SELECT w.id FROM pakn.complaint w
				WHERE w.status = 'open'
				  AND w.responsible_unit = ANY (v_desks)
				ORDER BY w.created_at, w.id LIMIT 100))));
END;
$$;

-------------------------------------------------------------------------
-- Imports of old names (paknctl import-aliases).
-------------------------------------------------------------------------

-- Check every row of pg_temp.import_alias; raise naming the line.
CREATE FUNCTION pakn.import_aliases_check() RETURNS void
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
CREATE FUNCTION pakn.import_aliases(OUT inserted integer, OUT updated integer)
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

-------------------------------------------------------------------------
-- The SMS dispatcher.
-------------------------------------------------------------------------

-- The place choice by digit and pakn.sms_place are dispatched by
-- pakn.handle_sms, whose one definition with every command is in 020.
