-- 040: a unit's ancestors read from the closure of the unit tree
-- (pakn.unit_closure, 009: every (ancestor, descendant) pair, kept in
-- step with the tree by the triggers on pakn.unit), one index scan,
-- instead of walking parent_code with a recursive query (issue 12).
-- Routing, the notice recipients and the reach checks ask for them for
-- each unit a complaint goes to: 94 us a call walking, 7 us from the
-- closure (3 320 communes, one call each). The closure's own upkeep
-- still walks the tree (pakn.unit_ancestors_walk), as does the cycle
-- check (pakn.unit_no_cycle).

-- The unit and its ancestors, nearest first, by walking the tree (what
-- pakn.unit_ancestors of 003 was).
CREATE FUNCTION pakn.unit_ancestors_walk(p_code text)
RETURNS TABLE (code text, kind text, distance integer)
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE up(code, parent_code, kind, distance) AS (
		SELECT u.code, u.parent_code, u.kind, 0 FROM pakn.unit u
		 WHERE u.code = p_code
		UNION ALL
		SELECT u.code, u.parent_code, u.kind, up.distance + 1
		  FROM pakn.unit u JOIN up ON u.code = up.parent_code
		 WHERE up.distance < 64)
	SELECT code, kind, distance FROM up
$$;

-- The closure's upkeep (as in functions/stats.sql, which has the same
-- body), walking the tree.
CREATE OR REPLACE FUNCTION pakn.unit_closure_refresh(p_code text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM pakn.unit_closure c
	 WHERE c.descendant IN (SELECT pakn.unit_descendants(p_code));
	INSERT INTO pakn.unit_closure (ancestor, descendant, depth)
	SELECT DISTINCT ON (a.code, d) a.code, d, a.distance
	  FROM pakn.unit_descendants(p_code) d, pakn.unit_ancestors_walk(d) a
	 ORDER BY a.code, d, a.distance;
END;
$$;

-- The closure made again from the tree, in case it ever drifted.
DELETE FROM pakn.unit_closure;
INSERT INTO pakn.unit_closure (ancestor, descendant, depth)
SELECT DISTINCT ON (a.code, u.code) a.code, u.code, a.distance
  FROM pakn.unit u, pakn.unit_ancestors_walk(u.code) a
 ORDER BY a.code, u.code, a.distance;

-- The unit and its ancestors, nearest first (distance 0 is the unit),
-- from the closure. The closure's rows of a unit are written by the
-- triggers after the statement that inserts or moves it. Each
-- ancestor's kind is looked up by its code (a subquery, not a join):
-- the plans PL/pgSQL keeps are made at a connection's first call, and
-- on tables not analyzed yet (a database just filled with the map) a
-- join read every unit into a hash for each call (0.25-0.75 ms instead
-- of a few us).
CREATE OR REPLACE FUNCTION pakn.unit_ancestors(p_code text)
RETURNS TABLE (code text, kind text, distance integer)
LANGUAGE sql STABLE AS $$
	SELECT c.ancestor,
		(SELECT u.kind FROM pakn.unit u WHERE u.code = c.ancestor),
		c.depth
	  FROM pakn.unit_closure c
	 WHERE c.descendant = p_code
	 ORDER BY c.depth
$$;
