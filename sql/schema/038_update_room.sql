-- 038: room on the pages of the outbox and of the inbound messages for
-- the versions their rows are updated to (issue 12). A message is
-- written three times: stored, claimed (its lease), then done (sent, or
-- processed); each update is a new version of the row, which PostgreSQL
-- puts on the row's own page when there is room. Pages filled to the
-- brim at insert sent every version to another page: that page written
-- too, and the old row locked by a WAL record of its own first (so that
-- no one updates it while the new page is found). Filled to 60 %, the
-- room left holds the next versions (the older ones are pruned once no
-- transaction sees them). In a drain on the bench machine: WAL 15.1-15.7
-- kB a complaint before, 9.6-10.0 kB with 60 % (9.5 with 40 %); row-lock
-- records 12.2 a complaint before, 8.5 after. The price: the months of
-- these two tables take about 1.6 times their pages.
--
-- pakn.partitioned says the fill factor of a table's partitions
-- (pakn.partition_create gives it to each month it creates); the months
-- there already get it for their pages to come (no rewrite).
ALTER TABLE pakn.partitioned ADD COLUMN fillfactor integer
	CHECK (fillfactor BETWEEN 10 AND 100);
UPDATE pakn.partitioned SET fillfactor = 60
 WHERE name IN ('outbox', 'inbound_message');
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT i.inhrelid::regclass AS part, p.fillfactor
		   FROM pakn.partitioned p
		   JOIN pg_inherits i
		     ON i.inhparent = format('pakn.%I', p.name)::regclass
		  WHERE p.fillfactor IS NOT NULL LOOP
		EXECUTE format('ALTER TABLE %s SET (fillfactor = %s)', r.part,
			r.fillfactor);
	END LOOP;
END;
$$;
