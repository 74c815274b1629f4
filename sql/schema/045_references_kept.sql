-- 045: the references a new complaint makes (its category, dimension,
-- units and message) and those its ledger rows and SMS make (the
-- complaint, the message): no foreign keys; checked by a trigger where a
-- row comes in, except in the statements of pakn.intake_process_batch
-- that make them from rows they have just read or written, and kept
-- where a row could go (issue 12).
--
-- A foreign key is checked for each row inserted: a query of the
-- referenced table that locks the row it finds (FOR KEY SHARE). A new
-- complaint made eight such checks, three or four more its ledger rows
-- and two each SMS: twelve a complaint processed in a batch, a quarter
-- of processing's buffers, and the locks of the few category, dimension
-- and unit rows that every concurrent transaction shares (a MultiXact
-- for a row locked by two at once). Scratch drains of 90 000 complaints
-- (processing alone, two pairs): 231 buffers a complaint with these
-- keys, 176 without; 26.9 index scans, 15.8.
--
-- Where a row comes in: pakn.references_check (INSERT; an UPDATE that
-- changes one of the columns), skipped while pakn.references_checked is
-- on: the batch's statements set it, whose values come from the rows
-- they join (a category of pakn.category and its dimension, a unit found
-- in pakn.unit or by the routing, the message's own id, the complaint
-- just made). Every other writer is checked as the keys checked it.
--
-- Where a row could go: the rows referenced are never deleted. A
-- complaint and a message's key are what the ledger and the outbox name
-- for good; units, categories and PAPI's dimensions are reference data
-- that imports add to and change, never remove. So a complaint and a
-- message's key refuse DELETE and TRUNCATE; a unit, category or
-- dimension that a complaint names refuses DELETE and a change of its
-- code, and their tables TRUNCATE while any complaint is stored. The
-- refusal is the foreign key's (SQLSTATE 23503). Its test locks
-- pakn.complaint (SHARE: no complaint comes in or changes meanwhile,
-- those in flight commit first and are seen), as the key's row lock
-- did.
--
-- Kept: the citizen a complaint belongs to (pakn.purge_personal deletes
-- citizens), and every foreign key of the other tables.

ALTER TABLE pakn.complaint
	DROP CONSTRAINT complaint_category_code_fkey,
	DROP CONSTRAINT complaint_dimension_fkey,
	DROP CONSTRAINT complaint_location_unit_fkey,
	DROP CONSTRAINT complaint_responsible_unit_fkey,
	DROP CONSTRAINT complaint_inbound_id_fkey;
ALTER TABLE pakn.complaint_event
	DROP CONSTRAINT complaint_event_complaint_id_fkey;
ALTER TABLE pakn.outbox
	DROP CONSTRAINT outbox_complaint_id_fkey,
	DROP CONSTRAINT outbox_inbound_id_fkey;

CREATE FUNCTION pakn.references_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_bad text;
BEGIN
	IF TG_ARGV[0] = 'complaint' THEN
		v_bad := CASE
		WHEN (TG_OP = 'INSERT'
			OR NEW.category_code IS DISTINCT FROM OLD.category_code)
		     AND NOT EXISTS (SELECT 1 FROM pakn.category c
			WHERE c.code = NEW.category_code)
		THEN format('category_code %s', NEW.category_code)
		WHEN (TG_OP = 'INSERT' OR NEW.dimension IS DISTINCT FROM OLD.dimension)
		     AND NEW.dimension IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM pakn.papi_dimension d
			WHERE d.code = NEW.dimension)
		THEN format('dimension %s', NEW.dimension)
		WHEN (TG_OP = 'INSERT'
			OR NEW.location_unit IS DISTINCT FROM OLD.location_unit)
		     AND NEW.location_unit IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM pakn.unit u
			WHERE u.code = NEW.location_unit)
		THEN format('location_unit %s', NEW.location_unit)
		WHEN (TG_OP = 'INSERT'
			OR NEW.responsible_unit IS DISTINCT FROM OLD.responsible_unit)
		     AND NEW.responsible_unit IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM pakn.unit u
			WHERE u.code = NEW.responsible_unit)
		THEN format('responsible_unit %s', NEW.responsible_unit)
		WHEN (TG_OP = 'INSERT' OR NEW.inbound_id IS DISTINCT FROM OLD.inbound_id)
		     AND NEW.inbound_id IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM pakn.inbound_key k
			WHERE k.id = NEW.inbound_id)
		THEN format('inbound_id %s', NEW.inbound_id) END;
	ELSIF TG_ARGV[0] = 'complaint_event' THEN
		v_bad := CASE WHEN NOT EXISTS (SELECT 1 FROM pakn.complaint c
			WHERE c.id = NEW.complaint_id)
		THEN format('complaint_id %s', NEW.complaint_id) END;
	ELSE
		v_bad := CASE
		WHEN NEW.complaint_id IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM pakn.complaint c
			WHERE c.id = NEW.complaint_id)
		THEN format('complaint_id %s', NEW.complaint_id)
		WHEN NEW.inbound_id IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM pakn.inbound_key k
			WHERE k.id = NEW.inbound_id)
		THEN format('inbound_id %s', NEW.inbound_id) END;
	END IF;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'pakn.%: % names no row (% refused)', TG_ARGV[0],
			v_bad, TG_OP USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER complaint_references BEFORE INSERT OR UPDATE OF
	category_code, dimension, location_unit, responsible_unit, inbound_id
	ON pakn.complaint FOR EACH ROW
	WHEN (current_setting('pakn.references_checked', true)
		IS DISTINCT FROM 'on')
	EXECUTE FUNCTION pakn.references_check('complaint');
CREATE TRIGGER complaint_event_references BEFORE INSERT
	ON pakn.complaint_event FOR EACH ROW
	WHEN (current_setting('pakn.references_checked', true)
		IS DISTINCT FROM 'on')
	EXECUTE FUNCTION pakn.references_check('complaint_event');
CREATE TRIGGER outbox_references BEFORE INSERT OR UPDATE OF complaint_id,
	inbound_id ON pakn.outbox FOR EACH ROW
	WHEN (current_setting('pakn.references_checked', true)
		IS DISTINCT FROM 'on')
	EXECUTE FUNCTION pakn.references_check('outbox');

-- A complaint and a message's key stay: the ledger, the outbox and the
-- complaints name them (TG_ARGV[0]: who).
CREATE FUNCTION pakn.rows_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'pakn.% keeps its rows: % name them (% refused)',
		TG_TABLE_NAME, TG_ARGV[0], TG_OP
		USING ERRCODE = 'foreign_key_violation';
END;
$$;
CREATE TRIGGER complaint_kept BEFORE DELETE OR TRUNCATE ON pakn.complaint
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.rows_kept(
		'the ledger and the outbox');
CREATE TRIGGER inbound_key_kept BEFORE DELETE OR TRUNCATE
	ON pakn.inbound_key FOR EACH STATEMENT EXECUTE FUNCTION pakn.rows_kept(
		'the complaints and the outbox');

-- A unit, category or dimension named by a complaint stays, code and
-- all. TG_ARGV: the complaint's columns that name it.
CREATE FUNCTION pakn.reference_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_col text;
	v_named boolean;
BEGIN
	IF TG_LEVEL = 'STATEMENT' THEN
		-- TRUNCATE: while any complaint is stored.
		IF EXISTS (SELECT 1 FROM pakn.complaint) THEN
			RAISE EXCEPTION 'pakn.% is named by complaints (TRUNCATE refused)',
				TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
		END IF;
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.code = OLD.code THEN
		RETURN NEW;
	END IF;
	-- No complaint comes in until this transaction ends; those in
	-- flight commit first (then are seen: a statement's own snapshot).
	LOCK TABLE pakn.complaint IN SHARE MODE;
	FOREACH v_col IN ARRAY TG_ARGV LOOP
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM pakn.complaint '
			'WHERE %I = $1)', v_col) INTO v_named USING OLD.code;
		IF v_named THEN
			RAISE EXCEPTION 'pakn.% % is named by complaints (%.%; % refused)',
				TG_TABLE_NAME, OLD.code, 'complaint', v_col, TG_OP
				USING ERRCODE = 'foreign_key_violation';
		END IF;
	END LOOP;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER unit_kept BEFORE DELETE OR UPDATE OF code ON pakn.unit
	FOR EACH ROW EXECUTE FUNCTION pakn.reference_kept('location_unit',
		'responsible_unit');
CREATE TRIGGER unit_kept_truncate BEFORE TRUNCATE ON pakn.unit
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.reference_kept();
CREATE TRIGGER category_kept BEFORE DELETE OR UPDATE OF code
	ON pakn.category FOR EACH ROW EXECUTE FUNCTION pakn.reference_kept(
		'category_code');
CREATE TRIGGER category_kept_truncate BEFORE TRUNCATE ON pakn.category
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.reference_kept();
CREATE TRIGGER papi_dimension_kept BEFORE DELETE OR UPDATE OF code
	ON pakn.papi_dimension FOR EACH ROW EXECUTE FUNCTION
	pakn.reference_kept('dimension');
CREATE TRIGGER papi_dimension_kept_truncate BEFORE TRUNCATE
	ON pakn.papi_dimension
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.reference_kept();
