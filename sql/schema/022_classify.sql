-- 022: classification in paknd (issue 12). paknd reads the categories'
-- keyword patterns (pakn.category.patterns and .untyped) into an
-- automaton (daemon/classify.c) that gives what pakn.category_of gives,
-- without its 2 ms per message; it reads them again when they change.

-------------------------------------------------------------------------
-- Schema
-------------------------------------------------------------------------

-- Bumped in the transaction that changes pakn.category, so a reader
-- that sees a new version also sees the categories it stands for.
CREATE TABLE pakn.category_version (
	one     boolean PRIMARY KEY DEFAULT true CHECK (one),
	version bigint NOT NULL DEFAULT 1
);
COMMENT ON TABLE pakn.category_version IS
	'one row: bumped at every change of pakn.category (paknd reloads its classifier)';
INSERT INTO pakn.category_version DEFAULT VALUES;

-------------------------------------------------------------------------
-- The trigger (schema: the table cannot change without it)
-------------------------------------------------------------------------

-- pakn.category changed: bump the version and tell listeners on channel
-- pakn_categories (the payload is the new version).
CREATE FUNCTION pakn.category_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v bigint;
BEGIN
	UPDATE pakn.category_version SET version = version + 1
	RETURNING version INTO v;
	PERFORM pg_notify('pakn_categories', v::text);
	RETURN NULL;
END;
$$;
CREATE TRIGGER category_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pakn.category
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.category_changed();
