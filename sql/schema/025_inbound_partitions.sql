-- 025: pakn.inbound_message partitioned by month of received_at (local
-- time, as the ledger and the outbox in 023), so that an old month of
-- received SMS (numbers and texts) can be dropped whole after the
-- retention (paknctl partitions --drop-before, once no message of it
-- waits for processing).
--
-- A unique constraint on a partitioned table must hold the partition
-- key, and (gateway, gateway_msg_id, received_at) would not stop a
-- repeated callback: the key a gateway's message is known by moves to
-- pakn.inbound_key, unpartitioned and small, which also gives the
-- message its id. Intake inserts the key (ON CONFLICT DO NOTHING) and
-- the message in one statement. The complaints, replies and ratings that
-- name the message they came from reference the key, which stays when
-- the message's month is dropped.
--
-- An existing installation is converted in place: the rows move into
-- their months with their ids; comments are kept.

CREATE TABLE pakn.inbound_key (
	gateway        text NOT NULL,
	gateway_msg_id text NOT NULL,
	id             bigint GENERATED ALWAYS AS IDENTITY,
	received_at    timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT inbound_key_pkey PRIMARY KEY (gateway, gateway_msg_id),
	CONSTRAINT inbound_key_id_key UNIQUE (id)
);
COMMENT ON TABLE pakn.inbound_key IS
	'every SMS received, by (gateway, gateway message id): stored once; '
	'its id is the message''s (pakn.inbound_message, partitioned)';

-- The old table steps aside (its rows are copied below, then it goes).
LOCK TABLE pakn.inbound_message IN ACCESS EXCLUSIVE MODE;
ALTER TABLE pakn.inbound_message RENAME TO inbound_message_unpartitioned;
ALTER SEQUENCE pakn.inbound_message_id_seq
	RENAME TO inbound_message_unpartitioned_id_seq;

CREATE TABLE pakn.inbound_message (
	id             bigint NOT NULL,
	gateway        text NOT NULL,
	gateway_msg_id text NOT NULL,
	msisdn         text NOT NULL,
	shortcode      text NOT NULL,
	body           text NOT NULL,
	sent_at        timestamptz,
	received_at    timestamptz NOT NULL DEFAULT now(),
	segments       integer,
	smsc           text,
	raw_request    text NOT NULL,
	raw_body       bytea NOT NULL,
	text_cut       boolean NOT NULL DEFAULT false,
	sender_flag    text,
	abuse_flag     text,
	state          text NOT NULL DEFAULT 'new'
		CONSTRAINT inbound_message_state_check
		CHECK (state IN ('new', 'done', 'failed')),
	lease_owner    text,
	lease_until    timestamptz,
	attempts       integer NOT NULL DEFAULT 0,
	processed_at   timestamptz,
	error          text
) PARTITION BY RANGE (received_at);

-- Comments of the table and its columns, as they were.
DO $$
DECLARE
	c record;
BEGIN
	EXECUTE format('COMMENT ON TABLE pakn.inbound_message IS %L',
		obj_description('pakn.inbound_message_unpartitioned'::regclass,
			'pg_class'));
	FOR c IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS d
	  FROM pg_attribute a
	 WHERE a.attrelid = 'pakn.inbound_message_unpartitioned'::regclass
	   AND a.attnum > 0 AND NOT a.attisdropped
	   AND col_description(a.attrelid, a.attnum) IS NOT NULL LOOP
		EXECUTE format('COMMENT ON COLUMN pakn.inbound_message.%I IS %L',
			c.attname, c.d);
	END LOOP;
END;
$$;

-- A DEFAULT partition, one per month that has rows, and this month and
-- the next three (pakn.partitions_ensure keeps them coming).
DO $$
DECLARE
	m date;
BEGIN
	CREATE TABLE pakn.inbound_message_default PARTITION OF
		pakn.inbound_message DEFAULT;
	FOR m IN SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE
			'Asia/Ho_Chi_Minh')::date
		  FROM pakn.inbound_message_unpartitioned
		UNION SELECT generate_series(date_trunc('month', now() AT TIME ZONE
			'Asia/Ho_Chi_Minh'), date_trunc('month', now() AT TIME ZONE
			'Asia/Ho_Chi_Minh') + interval '3 months',
			interval '1 month')::date
		ORDER BY 1 LOOP
		EXECUTE format('CREATE TABLE pakn.%I PARTITION OF
			pakn.inbound_message FOR VALUES FROM (%L) TO (%L)',
			'inbound_message' || to_char(m, '_YYYY_MM'),
			m::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh',
			(m + interval '1 month') AT TIME ZONE 'Asia/Ho_Chi_Minh');
	END LOOP;
END;
$$;

-- The rows and their keys, with their ids; ids continue where the old
-- sequence was.
INSERT INTO pakn.inbound_key (gateway, gateway_msg_id, id, received_at)
	OVERRIDING SYSTEM VALUE
SELECT gateway, gateway_msg_id, id, received_at
  FROM pakn.inbound_message_unpartitioned;
INSERT INTO pakn.inbound_message
SELECT id, gateway, gateway_msg_id, msisdn, shortcode, body, sent_at,
	received_at, segments, smsc, raw_request, raw_body, text_cut,
	sender_flag, abuse_flag, state, lease_owner, lease_until, attempts,
	processed_at, error
  FROM pakn.inbound_message_unpartitioned;
SELECT setval(pg_get_serial_sequence('pakn.inbound_key', 'id'),
	greatest(s.last_value, coalesce((SELECT max(id)
		FROM pakn.inbound_key), 1)),
	s.is_called OR EXISTS (SELECT 1 FROM pakn.inbound_key))
  FROM pakn.inbound_message_unpartitioned_id_seq s;

-- The old table goes, with the three foreign keys that named it.
ALTER TABLE pakn.complaint DROP CONSTRAINT complaint_inbound_id_fkey;
ALTER TABLE pakn.outbox DROP CONSTRAINT outbox_inbound_id_fkey;
ALTER TABLE pakn.rating DROP CONSTRAINT rating_inbound_id_fkey;
DROP TABLE pakn.inbound_message_unpartitioned;

-- Keys, indexes (on every partition, present and future), and the
-- foreign keys, now to the message's key.
ALTER TABLE pakn.inbound_message ADD PRIMARY KEY (id, received_at);
CREATE INDEX inbound_message_msisdn_idx
	ON pakn.inbound_message (msisdn, received_at);
CREATE INDEX inbound_message_abuse_idx ON pakn.inbound_message (msisdn)
	WHERE abuse_flag IS NOT NULL;
CREATE INDEX inbound_message_flagged_idx ON pakn.inbound_message (msisdn)
	WHERE sender_flag IS NOT NULL;
CREATE INDEX inbound_message_new_idx ON pakn.inbound_message (id)
	WHERE state = 'new';
CREATE INDEX inbound_message_new_phone_idx
	ON pakn.inbound_message (msisdn, id) WHERE state = 'new';
CREATE INDEX inbound_message_failed_idx ON pakn.inbound_message (id)
	WHERE state = 'failed';
ALTER TABLE pakn.complaint ADD CONSTRAINT complaint_inbound_id_fkey
	FOREIGN KEY (inbound_id) REFERENCES pakn.inbound_key (id);
ALTER TABLE pakn.outbox ADD CONSTRAINT outbox_inbound_id_fkey
	FOREIGN KEY (inbound_id) REFERENCES pakn.inbound_key (id);
ALTER TABLE pakn.rating ADD CONSTRAINT rating_inbound_id_fkey
	FOREIGN KEY (inbound_id) REFERENCES pakn.inbound_key (id);

-- Months are kept by pakn.partitions_ensure; old ones dropped by paknctl
-- partitions --drop-before, never while a message waits for processing.
INSERT INTO pakn.partitioned (name, key_column, droppable, busy, busy_note,
	note)
VALUES ('inbound_message', 'received_at', true, 'state = ''new''',
	'SMS not processed yet',
	'every SMS received: numbers and texts, droppable after the '
	'retention (the key stays in pakn.inbound_key)');
