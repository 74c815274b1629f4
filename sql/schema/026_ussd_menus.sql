-- 026: a USSD step is one round trip to PostgreSQL (issue 12). paknd
-- keeps what every session's menus show (the PAPI dimensions, the
-- categories, the rated services, the example commune: pakn.ussd_menus)
-- and, for a session it answered last, its state and what the menus know
-- of the citizen (pakn.ussd_citizen); a step then computes its screen in
-- C and stores it with pakn.ussd_advance, which returns what the next
-- step needs. The menus are known by a version bumped in the transaction
-- that changes them; a step's answer carries the new menus when paknd's
-- are older.

CREATE TABLE pakn.ussd_menu_version (
	one     boolean PRIMARY KEY DEFAULT true CHECK (one),
	version bigint NOT NULL DEFAULT 1
);
COMMENT ON TABLE pakn.ussd_menu_version IS
	'one row: bumped at every change of what the USSD menus list (pakn.ussd_menus); paknd loads the menus again';
INSERT INTO pakn.ussd_menu_version DEFAULT VALUES;

-- The trigger (schema: the tables cannot change without it).
CREATE FUNCTION pakn.ussd_menus_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.ussd_menu_version SET version = version + 1;
	RETURN NULL;
END;
$$;
CREATE TRIGGER ussd_menus_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pakn.category
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ussd_menus_changed();
CREATE TRIGGER ussd_menus_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pakn.public_service
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ussd_menus_changed();
CREATE TRIGGER ussd_menus_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pakn.papi_dimension
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ussd_menus_changed();
-- The example commune is the smallest commune code.
CREATE TRIGGER ussd_menus_changed
	AFTER INSERT OR UPDATE OF code, kind OR DELETE OR TRUNCATE ON pakn.unit
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ussd_menus_changed();

-- The two calls of a step before (008), and the context they read in
-- one piece: replaced by pakn.ussd_begin, pakn.ussd_advance,
-- pakn.ussd_menus and pakn.ussd_citizen (functions/ussd.sql).
DROP FUNCTION IF EXISTS pakn.ussd_context(text, text);
DROP FUNCTION IF EXISTS pakn.ussd_load(text, text, text, text, text, integer);
DROP FUNCTION IF EXISTS pakn.ussd_save(text, text, text, text, text, integer,
	jsonb, text, jsonb, integer);
