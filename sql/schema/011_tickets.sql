-- 011: unguessable tickets, bounded classification, messages cut to what
-- an SMS can carry.

-- Tickets. Before this migration a ticket was a fixed affine map of the sequence with
-- its constants in the source: anyone holding one ticket could compute
-- the next ones and count complaints. From here on the sequence value
-- goes through a keyed permutation whose 256-bit key is generated here,
-- once per installation, and kept in pakn.setting: tickets keep their 7
-- symbols, alphabet and check symbol (daemon/ticket.c checks them as
-- before), but without the key one ticket says nothing about another.
-- Tickets already given keep working: they are stored in
-- pakn.complaint.ticket and looked up by their text.
--
-- The key: gen_random_uuid() (core since PostgreSQL 13) draws 122 bits
-- from the server's strong random source (pg_strong_random); two of them,
-- hashed, make the key (pgcrypto is not needed).
INSERT INTO pakn.setting (name, value)
SELECT 'ticket_key', encode(sha256(convert_to(gen_random_uuid()::text
	|| gen_random_uuid()::text, 'UTF8')), 'hex')
ON CONFLICT (name) DO NOTHING;

-- A message whose text was longer than one SMS can carry ([server]
-- max_sms_text characters, or what the parts the gateway reported can
-- carry) is stored with its text cut there and flagged; raw_body keeps
-- the bytes as received, so nothing is lost.
ALTER TABLE pakn.inbound_message
	ADD COLUMN text_cut boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pakn.inbound_message.text_cut IS
	'body is the first max_sms_text characters of a longer text (raw_body has all)';

