-- functions/units.sql: administrative units and officials (tokens,
-- permissions).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- The unit and its ancestors, nearest first (distance 0 is the unit),
-- from the closure (040; pakn.unit_ancestors_walk walks the tree, for
-- the closure's upkeep). The closure's rows of a unit are written by the
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

-- Is p_code the unit p_root or below it?
CREATE OR REPLACE FUNCTION pakn.unit_in_subtree(p_code text, p_root text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pakn.unit_ancestors(p_code) a
		WHERE a.code = p_root)
$$;

-- The unit an official's phone belongs to (a phone of the unit; the
-- first code when several list it). The units that list it are found by
-- unit_phones_idx (029), then ordered: written as one query, the planner
-- walks every unit in code order instead, testing each one's phones.
CREATE OR REPLACE FUNCTION pakn.official_unit(p_msisdn text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (WITH u AS MATERIALIZED (
			SELECT x.code FROM pakn.unit x
			 WHERE x.phones @> ARRAY[p_msisdn])
		SELECT u.code FROM u ORDER BY u.code LIMIT 1);
END;
$$;

-- The first unit whose parent chain comes back to itself, if any.
CREATE OR REPLACE FUNCTION pakn.unit_cycle() RETURNS text
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

-- The active official a token belongs to, or NULL.
CREATE OR REPLACE FUNCTION pakn.token_official(p_token text) RETURNS pakn.official
LANGUAGE sql STABLE AS $$
	SELECT o.* FROM pakn.api_token t
	  JOIN pakn.official o ON o.id = t.official_id AND o.active
	 WHERE t.token_hash = sha256(convert_to(p_token, 'UTF8'))
	   AND t.revoked_at IS NULL
$$;

-- The official an SMS comes from (active, by phone), or NULL.
CREATE OR REPLACE FUNCTION pakn.official_by_phone(p_msisdn text) RETURNS pakn.official
LANGUAGE plpgsql STABLE AS $$
DECLARE
	o pakn.official;
BEGIN
	SELECT * INTO o FROM pakn.official x WHERE x.phone = p_msisdn AND x.active;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN o;
END;
$$;

-- May this official act on complaints of this unit? Officers: their unit;
-- leaders and admins: their unit's subtree.
CREATE OR REPLACE FUNCTION pakn.official_may(o pakn.official, p_unit text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT o.id IS NOT NULL AND p_unit IS NOT NULL AND CASE o.role
		WHEN 'officer' THEN p_unit = o.unit_code
		ELSE pakn.unit_in_subtree(p_unit, o.unit_code) END
$$;

-- A new API token for the active official with phone p_phone (paknctl
-- token create): only its SHA-256 is kept. The official's id, or NULL
-- when no active official has that phone.
CREATE OR REPLACE FUNCTION pakn.token_create(p_phone text, p_token text)
RETURNS bigint
LANGUAGE sql AS $$
	INSERT INTO pakn.api_token (official_id, token_hash)
	SELECT o.id, sha256(convert_to(p_token, 'UTF8'))
	  FROM pakn.official o WHERE o.phone = p_phone AND o.active
	RETURNING official_id
$$;

-- Revoke every token of the official with phone p_phone (paknctl token
-- revoke); how many were revoked.
CREATE OR REPLACE FUNCTION pakn.token_revoke(p_phone text)
RETURNS integer
LANGUAGE sql AS $$
	WITH r AS (
		UPDATE pakn.api_token t SET revoked_at = now()
		  FROM pakn.official o
		 WHERE o.id = t.official_id AND o.phone = p_phone
		   AND t.revoked_at IS NULL
		RETURNING t.id)
	SELECT count(*)::integer FROM r
$$;
