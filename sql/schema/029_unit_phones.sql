-- 029: a unit's phones found by their index (issue 12). Every message
-- asks whether its sender is a phone of a unit (pakn.official_unit:
-- units' phones have no limits and may act for their unit), several
-- times on the way of an official's command. The question read every
-- unit: with the 3 355 units of the 2025 map (34 provinces, 3 321
-- communes: ../shared/data/vn-units-2025.csv) that is 0.57 ms a call,
-- as much as the rest of a complaint's processing; with this index and
-- the query of functions/units.sql, 6 us. Without a pending list
-- (fastupdate): units change rarely, by imports, and every lookup would
-- read the list whole; after an import of the whole map the planner,
-- counting it, read every unit instead until a vacuum emptied it.
CREATE INDEX unit_phones_idx ON pakn.unit USING gin (phones)
	WITH (fastupdate = off);
