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

-------------------------------------------------------------------------
-- The SMS dispatcher.
-------------------------------------------------------------------------

-- The place choice by digit and pakn.sms_place are dispatched by
-- pakn.handle_sms, whose one definition with every command is in 020.
