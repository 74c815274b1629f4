-- 031: each unit's name as places are looked up, stored (issue 12). A
-- complaint located by a commune's name (pakn.place_match) computed the
-- folded key (pakn.place_key) and kind (pakn.place_kind) of every unit
-- its words matched, and of each candidate's province, at each call:
-- seven pakn.place_key calls of about 40 us a complaint, a third of the
-- lookup. Stored as pakn.place_alias stores the old names' (017); the
-- expression index of 017 gives way to one on the column.

ALTER TABLE pakn.unit
	ADD COLUMN name_key text
		GENERATED ALWAYS AS (pakn.place_key(name)) STORED,
	ADD COLUMN name_kind text
		GENERATED ALWAYS AS (pakn.place_kind(name)) STORED;
COMMENT ON COLUMN pakn.unit.name_key IS
	'the name folded, without its kind (pakn.place_key): "Phường Ba Đình" -> "ba dinh"';
COMMENT ON COLUMN pakn.unit.name_kind IS
	'the kind the name starts with, folded (pakn.place_kind): phuong, xa, ... or empty';
DROP INDEX pakn.unit_place_key_idx;
CREATE INDEX unit_name_key_idx ON pakn.unit (name_key);
