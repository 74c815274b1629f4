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

-- The keyed permutation of 0..31^6-1 (887 503 681 values): a 10-round
-- Feistel network over 30 bits (two halves of 15) whose round function
-- is the first 15 bits of SHA-256(key || round || right half), applied
-- again while the result is 31^6 or more (cycle-walking, about 1.2 times
-- on average), which keeps it a permutation of the smaller range.
-- daemon/ticket.c's ticket_permute is the same function.
CREATE FUNCTION pakn.ticket_permute(p_n bigint, p_key bytea) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	x bigint := (p_n % 887503681 + 887503681) % 887503681;
	l integer;
	r integer;
	t integer;
	h bytea;
BEGIN
	IF octet_length(p_key) <> 32 THEN
		RAISE EXCEPTION 'ticket key must be 32 bytes, not %',
			octet_length(p_key);
	END IF;
	LOOP
		l := (x >> 15)::integer;
		r := (x & 32767)::integer;
		FOR i IN 0..9 LOOP
			h := sha256(p_key || set_byte(set_byte(set_byte(
				'\x000000'::bytea, 0, i), 1, r >> 8), 2, r & 255));
			t := l # ((get_byte(h, 0) << 8 | get_byte(h, 1)) & 32767);
			l := r;
			r := t;
		END LOOP;
		x := l::bigint << 15 | r;
		EXIT WHEN x < 887503681;
	END LOOP;
	RETURN x;
END;
$$;

-- A ticket number 0..31^6-1 as 6 base-31 symbols and the check symbol c
-- making the weighted sum (position i weighs i) of all 7 symbol indexes 0
-- mod 31 (as 004 wrote them).
CREATE FUNCTION pakn.ticket_symbols(p_x bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	a constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
	x bigint := p_x;
	s text := '';
	total integer := 0;
BEGIN
	FOR i IN 1..6 LOOP
		s := substr(a, (x % 31)::integer + 1, 1) || s;
		x := x / 31;
	END LOOP;
	FOR i IN 1..6 LOOP
		total := total + i * (strpos(a, substr(s, i, 1)) - 1);
	END LOOP;
	-- 7 * c + total = 0 (mod 31); 9 is the inverse of 7 mod 31.
	RETURN s || substr(a, (31 - total % 31 * 9 % 31) % 31 + 1, 1);
END;
$$;

-- The ticket of sequence value n (complaint_new and the USSD complaint
-- call it with nextval('pakn.ticket_seq')). Distinct sequence values give
-- distinct tickets; one that a complaint already holds (a ticket given
-- before this migration, by the old formula) is skipped for the next
-- sequence value, so a new complaint never collides with an old one.
CREATE OR REPLACE FUNCTION pakn.ticket_encode(n bigint) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
	k bytea;
	v bigint := n;
	t text;
BEGIN
	SELECT decode(s.value, 'hex') INTO k FROM pakn.setting s
	 WHERE s.name = 'ticket_key';
	IF k IS NULL THEN
		RAISE EXCEPTION 'no ticket key in pakn.setting (ticket_key)';
	END IF;
	LOOP
		t := pakn.ticket_symbols(pakn.ticket_permute(v, k));
		EXIT WHEN NOT EXISTS (SELECT 1 FROM pakn.complaint c
			WHERE c.ticket = t);
		v := nextval('pakn.ticket_seq');
	END LOOP;
	RETURN t;
END;
$$;

-- Classification reads a bounded head of the text. pakn.classify folded
-- the whole text once per keyword pattern (about 190): a 60 KB message of
-- 30 000 words cost seconds. Now the text is folded once, and only its
-- first 300 words (about ten SMS parts), read from at most its first
-- 3 000 characters, are matched: a complaint names its subject early; the
-- rest is stored and shown, only not classified.
CREATE FUNCTION pakn.classify_words(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ' ' || array_to_string((string_to_array(btrim(pakn.fold_words(
		CASE WHEN length(p_text) <= 3000 THEN p_text
		     -- Drop the word the cut went through.
		     ELSE regexp_replace(left(p_text, 3000), '\S*$', '') END)),
		' '))[1:300], ' ') || ' '
$$;

CREATE OR REPLACE FUNCTION pakn.classify(p_text text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text := pakn.classify_words(p_text);
	v text;
BEGIN
	SELECT c.code INTO v
	  FROM pakn.category c, unnest(c.patterns) k
	 WHERE strpos(w, k) > 0
	 ORDER BY length(k) DESC, c.code
	 LIMIT 1;
	RETURN coalesce(v, 'general');
END;
$$;

-- A message whose text was longer than one SMS can carry ([server]
-- max_sms_text characters, or what the parts the gateway reported can
-- carry) is stored with its text cut there and flagged; raw_body keeps
-- the bytes as received, so nothing is lost.
ALTER TABLE pakn.inbound_message
	ADD COLUMN text_cut boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pakn.inbound_message.text_cut IS
	'body is the first max_sms_text characters of a longer text (raw_body has all)';

