-- 027: paknd records the outcomes of its sends in batches, one statement
-- for all the sends that ended in one turn of its loop
-- (pakn.outbox_results, functions/outbox.sql), not one statement a send:
-- the function for one outcome goes.
DROP FUNCTION IF EXISTS pakn.outbox_result(bigint, text, text, text, integer,
	text, integer, double precision, timestamptz);
