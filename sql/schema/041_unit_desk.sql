-- 041: the units that name a unit as their desk, by index (issue 12).
-- pakn.is_desk (is this unit some province's triage desk?) is asked for
-- each complaint that fits no category as it is routed, and by the
-- desk's API; it read every unit (3 368 with the 2025 map): 175 us a
-- call, a few us with this index.
CREATE INDEX unit_desk_idx ON pakn.unit (desk_unit)
	WHERE desk_unit IS NOT NULL;
