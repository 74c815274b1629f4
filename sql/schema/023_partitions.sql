-- 023: the ledger (pakn.complaint_event) and the outbox (pakn.outbox)
-- partitioned by month, local time (Asia/Ho_Chi_Minh, UTC+7, no DST):
-- a month's rows are one table, so an old month of the outbox can be
-- dropped whole (paknctl partitions --drop-before) and indexes stay the
-- size of a month. An existing installation is converted in place: each
-- table is rebuilt as a partitioned one with the same columns, ids,
-- defaults, checks, foreign keys, indexes and triggers, and its rows
-- moved into their months. Ids are unique without a constraint saying
-- so (GENERATED ALWAYS identity: no statement may give its own id); the
-- primary keys are (id, at) and (id, created_at), as PostgreSQL wants
-- the partition key in every unique index.
--
-- The functions are in sql/functions/partitions.sql and outbox.sql; the
-- ones that change signature or take the ledger's row type are dropped
-- here, and migrate applies every function file again after a schema
-- file.

------------------------------------------------------------------------
-- Schema
------------------------------------------------------------------------

-- The tables partitioned by month and how: partitions_ensure keeps their
-- months, partitions_drop_before drops whole months of a droppable one.
CREATE TABLE pakn.partitioned (
	name       text PRIMARY KEY,   -- a table of schema pakn
	key_column text NOT NULL,      -- its timestamptz partition key
	droppable  boolean NOT NULL,   -- whole old months may be dropped
	busy       text,               -- rows that forbid dropping their month
	busy_note  text,               -- what they are, for the refusal
	note       text NOT NULL
);
INSERT INTO pakn.partitioned (name, key_column, droppable, busy, busy_note,
	note)
VALUES
	('complaint_event', 'at', false, NULL, NULL,
	 'the ledger: the accountability record, never dropped'),
	('outbox', 'created_at', true, 'state IN (''queued'', ''sending'')',
	 'SMS still queued or being sent',
	 'every SMS sent: numbers and texts, droppable after the retention');

-- Every partition created, filled from DEFAULT or dropped: who, when,
-- what, how many rows. Append-only.
CREATE TABLE pakn.partition_event (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT now(),
	actor       text NOT NULL,
	action      text NOT NULL CHECK (action IN ('created', 'dropped')),
	table_name  text NOT NULL,
	partition   text NOT NULL,
	range_from  timestamptz NOT NULL,
	range_to    timestamptz NOT NULL,
	rows        bigint NOT NULL,   -- moved from DEFAULT, or dropped
	detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE TRIGGER partition_event_append_only BEFORE UPDATE OR DELETE
	ON pakn.partition_event FOR EACH ROW EXECUTE FUNCTION pakn.append_only();
CREATE TRIGGER partition_event_no_truncate BEFORE TRUNCATE
	ON pakn.partition_event FOR EACH STATEMENT
	EXECUTE FUNCTION pakn.append_only();
COMMENT ON TABLE pakn.partition_event IS
	'partitions created and dropped (pakn.partitions_ensure, paknctl partitions --drop-before); append-only';

-- The old tables step aside (their rows are copied below, then they go).
LOCK TABLE pakn.complaint_event, pakn.outbox IN ACCESS EXCLUSIVE MODE;
ALTER TABLE pakn.complaint_event RENAME TO complaint_event_unpartitioned;
ALTER SEQUENCE pakn.complaint_event_id_seq
	RENAME TO complaint_event_unpartitioned_id_seq;
ALTER TABLE pakn.outbox RENAME TO outbox_unpartitioned;
ALTER SEQUENCE pakn.outbox_id_seq RENAME TO outbox_unpartitioned_id_seq;

-- The ledger (004), partitioned by the time of the event.
CREATE TABLE pakn.complaint_event (
	id           bigint GENERATED ALWAYS AS IDENTITY,
	complaint_id bigint NOT NULL,
	at           timestamptz NOT NULL DEFAULT now(),
	actor        text NOT NULL CONSTRAINT complaint_event_actor_check
		CHECK (actor IN ('citizen', 'official', 'system')),
	actor_id     text,
	event        text NOT NULL,
	reason       text,
	detail       jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (at);
COMMENT ON TABLE pakn.complaint_event IS
	'The ledger: every change of a complaint, append-only; partitioned by local month of at (pakn.partitions_ensure), never dropped';

-- The outbox (004, 018), partitioned by the time the SMS was queued.
CREATE TABLE pakn.outbox (
	id              bigint GENERATED ALWAYS AS IDENTITY,
	gateway         text NOT NULL,
	msisdn          text NOT NULL,
	body            text NOT NULL CONSTRAINT outbox_body_check
				CHECK (body <> ''),
	kind            text NOT NULL,
	complaint_id    bigint,
	inbound_id      bigint,
	state           text NOT NULL DEFAULT 'queued'
				CONSTRAINT outbox_state_check CHECK (state IN ('queued',
				'sending', 'sent', 'delivered', 'undelivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	lease_until     timestamptz,
	gateway_ref     text,
	last_error      text,
	segments        integer,
	encoding        text CONSTRAINT outbox_encoding_check
				CHECK (encoding IN ('gsm7', 'ucs2')),
	created_at      timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	delivered_at    timestamptz
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE pakn.outbox IS
	'Every SMS pakn sends; partitioned by local month of created_at (pakn.partitions_ensure); old months dropped by paknctl partitions --drop-before';

-- A DEFAULT partition each (rows of a month without its partition land
-- there; partitions_ensure moves them out), one per month that has rows,
-- and this month and the next three. The ledger's TRUNCATE guard is a
-- statement trigger, which PostgreSQL does not clone: each partition gets
-- its own.
DO $$
DECLARE
	t record;
	m date;
	v_part text;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('complaint_event', 'at'),
			('outbox', 'created_at')) AS x (name, key) LOOP
		EXECUTE format('CREATE TABLE pakn.%I PARTITION OF pakn.%I DEFAULT',
			t.name || '_default', t.name);
		FOR m IN EXECUTE format('SELECT DISTINCT date_trunc(''month'', %I
				AT TIME ZONE ''Asia/Ho_Chi_Minh'')::date
			  FROM pakn.%I UNION SELECT generate_series(date_trunc(
				''month'', now() AT TIME ZONE ''Asia/Ho_Chi_Minh''),
				date_trunc(''month'', now() AT TIME ZONE
				''Asia/Ho_Chi_Minh'') + interval ''3 months'',
				interval ''1 month'')::date ORDER BY 1',
			t.key, t.name || '_unpartitioned') LOOP
			EXECUTE format('CREATE TABLE pakn.%I PARTITION OF pakn.%I
				FOR VALUES FROM (%L) TO (%L)',
				t.name || to_char(m, '_YYYY_MM'), t.name,
				m::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh',
				(m + interval '1 month') AT TIME ZONE
					'Asia/Ho_Chi_Minh');
		END LOOP;
	END LOOP;
	FOR v_part IN SELECT relid::regclass::text
	  FROM pg_partition_tree('pakn.complaint_event') WHERE isleaf LOOP
		EXECUTE format('CREATE TRIGGER complaint_event_no_truncate
			BEFORE TRUNCATE ON %s FOR EACH STATEMENT
			EXECUTE FUNCTION pakn.ledger_append_only()', v_part);
	END LOOP;
END;
$$;

-- The rows, with their ids; no trigger is there yet to fire again (the
-- statistics counted these events when they were appended).
INSERT INTO pakn.complaint_event
	(id, complaint_id, at, actor, actor_id, event, reason, detail)
	OVERRIDING SYSTEM VALUE
SELECT id, complaint_id, at, actor, actor_id, event, reason, detail
  FROM pakn.complaint_event_unpartitioned;
INSERT INTO pakn.outbox
	(id, gateway, msisdn, body, kind, complaint_id, inbound_id, state,
	 attempts, next_attempt_at, lease_until, gateway_ref, last_error,
	 segments, encoding, created_at, sent_at, delivered_at)
	OVERRIDING SYSTEM VALUE
SELECT id, gateway, msisdn, body, kind, complaint_id, inbound_id, state,
	attempts, next_attempt_at, lease_until, gateway_ref, last_error,
	segments, encoding, created_at, sent_at, delivered_at
  FROM pakn.outbox_unpartitioned;

-- Ids continue where the old sequences were.
SELECT setval(pg_get_serial_sequence('pakn.complaint_event', 'id'),
	greatest(s.last_value, coalesce((SELECT max(id)
		FROM pakn.complaint_event), 1)), s.is_called OR EXISTS (SELECT
		1 FROM pakn.complaint_event))
  FROM pakn.complaint_event_unpartitioned_id_seq s;
SELECT setval(pg_get_serial_sequence('pakn.outbox', 'id'),
	greatest(s.last_value, coalesce((SELECT max(id) FROM pakn.outbox), 1)),
	s.is_called OR EXISTS (SELECT 1 FROM pakn.outbox))
  FROM pakn.outbox_unpartitioned_id_seq s;

-- Two functions take the old ledger's row type: they go with it and are
-- created again, unchanged, for the new one (below).
DROP FUNCTION IF EXISTS pakn.stat_of_event(pakn.complaint_event_unpartitioned);
DROP FUNCTION IF EXISTS pakn.event_short(pakn.complaint_event_unpartitioned);
DROP TABLE pakn.complaint_event_unpartitioned;
DROP TABLE pakn.outbox_unpartitioned;

-- Keys, foreign keys, indexes (on every partition, present and future).
ALTER TABLE pakn.complaint_event ADD PRIMARY KEY (id, at),
	ADD FOREIGN KEY (complaint_id) REFERENCES pakn.complaint (id);
CREATE INDEX complaint_event_complaint_idx
	ON pakn.complaint_event (complaint_id, id);
ALTER TABLE pakn.outbox ADD PRIMARY KEY (id, created_at),
	ADD FOREIGN KEY (complaint_id) REFERENCES pakn.complaint (id),
	ADD FOREIGN KEY (inbound_id) REFERENCES pakn.inbound_message (id);
CREATE INDEX outbox_due_idx ON pakn.outbox (next_attempt_at, id)
	WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_ref_idx ON pakn.outbox (gateway, gateway_ref);
CREATE INDEX outbox_complaint_idx ON pakn.outbox (complaint_id);
CREATE INDEX outbox_msisdn_idx ON pakn.outbox (msisdn, created_at);

-- Triggers (row triggers are cloned onto every partition).
CREATE TRIGGER complaint_event_append_only
	BEFORE UPDATE OR DELETE ON pakn.complaint_event
	FOR EACH ROW EXECUTE FUNCTION pakn.ledger_append_only();
CREATE TRIGGER complaint_event_no_truncate
	BEFORE TRUNCATE ON pakn.complaint_event
	FOR EACH STATEMENT EXECUTE FUNCTION pakn.ledger_append_only();
CREATE TRIGGER complaint_event_stats AFTER INSERT ON pakn.complaint_event
	FOR EACH ROW WHEN (NEW.event IN ('routed', 'answered', 'apologised',
		'transferred', 'reopened'))
	EXECUTE FUNCTION pakn.stat_event_trigger();
CREATE TRIGGER outbox_refuse_flagged BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse_flagged();
CREATE TRIGGER outbox_refuse_banned BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse_banned();
CREATE TRIGGER outbox_skip_nophone BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_skip_nophone();

-- outbox_claim returns created_at now, outbox_result takes it: their
-- new definitions are in sql/functions/outbox.sql.
DROP FUNCTION IF EXISTS pakn.outbox_claim(integer, integer);
DROP FUNCTION IF EXISTS pakn.outbox_result(bigint, text, text, text, integer,
	text, integer, double precision);
