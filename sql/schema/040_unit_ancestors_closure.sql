-- 040: a unit's ancestors read from the closure of the unit tree
-- (pakn.unit_closure, 009: every (ancestor, descendant) pair, kept in
-- step with the tree by the triggers on pakn.unit), one index scan,
-- instead of walking parent_code with a recursive query (issue 12).
-- Routing, the notice recipients and the reach checks ask for them for
-- each unit a complaint goes to: 94 us a call walking, 7 us from the
-- closure (3 320 communes, one call each).
--
-- The walk stays for the closure's own upkeep (pakn.unit_closure_refresh
-- in functions/stats.sql): 003's function under a new name. The new
-- pakn.unit_ancestors, which reads the closure, is in functions/units.sql
-- (applied after the schema files; until then nothing by the old name
-- answers wrongly from a closure being made).
ALTER FUNCTION pakn.unit_ancestors(text) RENAME TO unit_ancestors_walk;

-- The closure made again from the tree, in case it ever drifted.
DELETE FROM pakn.unit_closure;
INSERT INTO pakn.unit_closure (ancestor, descendant, depth)
SELECT DISTINCT ON (a.code, u.code) a.code, u.code, a.distance
  FROM pakn.unit u, pakn.unit_ancestors_walk(u.code) a
 ORDER BY a.code, u.code, a.distance;
