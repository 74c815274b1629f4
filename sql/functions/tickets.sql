-- functions/tickets.sql: ticket numbers: encoding with a check symbol.
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

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

-- The keyed permutation of 0..31^6-1 (887 503 681 values): a 10-round
-- Feistel network over 30 bits (two halves of 15) whose round function
-- is the first 15 bits of SHA-256(key || round || right half), applied
-- again while the result is 31^6 or more (cycle-walking, about 1.2 times
-- on average), which keeps it a permutation of the smaller range.
-- daemon/ticket.c's ticket_permute is the same function.
CREATE OR REPLACE FUNCTION pakn.ticket_permute(p_n bigint, p_key bytea) RETURNS bigint
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
CREATE OR REPLACE FUNCTION pakn.ticket_symbols(p_x bigint) RETURNS text
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
