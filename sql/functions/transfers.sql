-- functions/transfers.sql: transfer requests between units, and who is
-- notified of new complaints.
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- [sms] notice_gather in seconds, as processing's call set it for its
-- transaction (pakn.intake_process, pakn.intake_process_batch); 0 (every
-- notice at once) in the transactions of the API and the workers.
CREATE OR REPLACE FUNCTION pakn.notice_gather() RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('pakn.notice_gather', true),
		'')::integer, 0)
$$;

-- Whether p_phone got a notice of a new complaint (or a list of them)
-- less than p_gather seconds ago.
CREATE OR REPLACE FUNCTION pakn.notice_recent(p_phone text, p_gather integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pakn.outbox o
		WHERE o.msisdn = p_phone
		  AND o.created_at > now() - make_interval(secs => p_gather)
		  AND o.kind IN ('new_complaint', 'new_complaint_fallback',
			'new_complaints', 'new_complaints_fallback'))
$$;

-- Whether a notice of a new complaint to p_phone is held
-- (pakn.notice_held, 043) rather than sent: the phone got one less than
-- p_gather seconds ago, or has notices held already.
CREATE OR REPLACE FUNCTION pakn.notice_waits(p_phone text, p_gather integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_gather > 0
	   AND (EXISTS (SELECT 1 FROM pakn.notice_held h
			WHERE h.msisdn = p_phone)
		OR pakn.notice_recent(p_phone, p_gather))
$$;

-- The variables of new_complaints (039): p_count complaints, the first
-- eight tickets listed (p_tickets) and how many more, the first three
-- units and how many more, the earliest due date.
CREATE OR REPLACE FUNCTION pakn.notices_vars(p_count bigint, p_tickets text,
	p_units text[], p_due timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('count', p_count,
		'tickets', p_tickets || CASE WHEN p_count > 8
			THEN format(' và %s phản ánh khác', p_count - 8) ELSE '' END,
		'unit', array_to_string(p_units[1:3], ', ')
			|| CASE WHEN cardinality(p_units) > 3
			THEN format(' và %s đơn vị khác', cardinality(p_units) - 3)
			ELSE '' END,
		'due', coalesce(pakn.due_vi(p_due), ''))
$$;

-- Send the notices held (pakn.notice_held) to the phones whose gather is
-- over (no notice of a new complaint for p_gather seconds), at most
-- p_limit phones a call: one SMS a phone (and gateway and kind), the
-- notice itself (new_complaint, with the complaint as it is now) when
-- one was held, else their list (new_complaints). Two paknd may call it
-- at once: a row is sent by the call that deleted it. Returns the phones
-- served, the notices held they got, and the SMS queued (refused ones
-- included, as the outbox's trigger marks them).
CREATE OR REPLACE FUNCTION pakn.notice_flush(p_gather integer,
	p_limit integer, OUT phones integer, OUT notices integer,
	OUT sms integer)
LANGUAGE plpgsql AS $$
BEGIN
	-- (The phones apart first: asked once each, not once a row.)
	WITH ph AS MATERIALIZED (SELECT DISTINCT h.msisdn FROM pakn.notice_held h),
	ready AS (
		SELECT ph.msisdn FROM ph
		 WHERE NOT pakn.notice_recent(ph.msisdn, p_gather)
		 ORDER BY ph.msisdn LIMIT p_limit),
	taken AS (
		DELETE FROM pakn.notice_held h USING ready
		 WHERE h.msisdn = ready.msisdn
		RETURNING h.*),
	-- The rows' tickets in order (by their first complaint), the first
	-- eight listed; their units once.
	tk AS (
		SELECT x.gateway, x.msisdn, x.kind,
			string_agg(x.ticket, ', ' ORDER BY x.j)
				FILTER (WHERE x.j <= 8) AS tickets
		  FROM (SELECT t.gateway, t.msisdn, t.kind, u.ticket,
				row_number() OVER (PARTITION BY t.gateway, t.msisdn,
					t.kind ORDER BY t.complaint_id, u.i) AS j
			  FROM taken t CROSS JOIN LATERAL unnest(t.tickets)
				WITH ORDINALITY u(ticket, i)) x
		 GROUP BY x.gateway, x.msisdn, x.kind),
	un AS (
		SELECT t.gateway, t.msisdn, t.kind, array_agg(DISTINCT u.unit) AS units
		  FROM taken t CROSS JOIN LATERAL unnest(t.units) u(unit)
		 GROUP BY t.gateway, t.msisdn, t.kind),
	g AS (
		SELECT t.gateway, t.msisdn, t.kind, sum(t.complaints) AS k,
			min(t.complaint_id) AS one, tk.tickets, un.units,
			min(t.due_at) AS due_at
		  FROM taken t
		  JOIN tk USING (gateway, msisdn, kind)
		  JOIN un USING (gateway, msisdn, kind)
		 GROUP BY t.gateway, t.msisdn, t.kind, tk.tickets, un.units),
	q AS (
		INSERT INTO pakn.outbox (gateway, msisdn, body, kind, complaint_id)
		SELECT g.gateway, g.msisdn,
			CASE WHEN g.k = 1
			THEN pakn.render(g.kind, pakn.complaint_vars(g.one))
			ELSE pakn.render(replace(g.kind, 'new_complaint',
				'new_complaints'), pakn.notices_vars(g.k, g.tickets,
				g.units, g.due_at)) END,
			CASE WHEN g.k = 1 THEN g.kind
			ELSE replace(g.kind, 'new_complaint', 'new_complaints') END,
			CASE WHEN g.k = 1 THEN g.one END
		  FROM g ORDER BY g.msisdn, g.kind
		RETURNING 1)
	SELECT (SELECT count(DISTINCT g.msisdn) FROM g),
		(SELECT coalesce(sum(g.k), 0) FROM g), (SELECT count(*) FROM q)
	  INTO phones, notices, sms;
END;
$$;

-- Queue a template to a unit's notice recipients (pakn.notice_recipients;
-- the fallback ones get the template's _fallback variant when there is
-- one), at most once per phone, complaint and template in a transaction.
-- A new complaint's notice to a phone that got one lately is held
-- instead (pakn.notice_waits, [sms] notice_gather), sent with the others
-- held by pakn.notice_flush. Returns the number queued.
CREATE OR REPLACE FUNCTION pakn.notify_unit(p_unit text, p_roles text[],
	p_template text, p_complaint bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	n integer := 0;
	r record;
	v_template text;
	v_vars jsonb;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_complaint;
	FOR r IN SELECT * FROM pakn.notice_recipients(p_unit, p_roles) LOOP
		CONTINUE WHEN EXISTS (SELECT 1 FROM pakn.outbox o
			WHERE o.complaint_id = p_complaint AND o.msisdn = r.r_phone
			  AND o.kind IN (p_template, p_template || '_fallback')
			  AND o.created_at = now());
		v_template := CASE WHEN r.r_fallback AND EXISTS (SELECT 1
				FROM pakn.template t WHERE t.code = p_template || '_fallback')
			THEN p_template || '_fallback' ELSE p_template END;
		IF p_template = 'new_complaint'
				AND pakn.notice_waits(r.r_phone, pakn.notice_gather()) THEN
			INSERT INTO pakn.notice_held (msisdn, complaint_id, gateway,
				kind, complaints, tickets, units, due_at)
			VALUES (r.r_phone, p_complaint, c.gateway, v_template, 1,
				ARRAY[c.ticket], ARRAY[coalesce((SELECT u.name
					FROM pakn.unit u
					WHERE u.code = c.responsible_unit), '')],
				coalesce(c.new_due_at, c.due_at))
			ON CONFLICT DO NOTHING;
			CONTINUE;
		END IF;
		-- The variables once for every recipient.
		v_vars := coalesce(v_vars, pakn.complaint_vars(p_complaint));
		n := n + pakn.reply(c.gateway, r.r_phone, v_template, v_vars,
			p_complaint, NULL, true);
	END LOOP;
	RETURN n;
END;
$$;

-- Who gets a unit's notices: its active officials of the given roles and
-- the unit's own phones; when that is nobody (no official, or only an
-- admin), its leaders; when it has none either, the officials of those
-- roles and the leaders of the nearest ancestor that has any; by phone.
-- A plain SQL query, so that a query that names it in FROM with columns
-- as its arguments gets it inlined: pakn.intake_process_batch finds the
-- recipients of a batch's units with it in one statement.
CREATE OR REPLACE FUNCTION pakn.notice_recipients(p_unit text, p_roles text[])
RETURNS TABLE (r_phone text, r_unit text, r_fallback boolean)
LANGUAGE sql STABLE AS $$
	WITH own AS (
		SELECT DISTINCT x.p FROM (
			SELECT o.phone AS p FROM pakn.official o
			 WHERE o.unit_code = p_unit AND o.active
			   AND o.role = ANY (p_roles)
			UNION
			SELECT unnest(u.phones) FROM pakn.unit u
			 WHERE u.code = p_unit) x)
	SELECT own.p, p_unit, false FROM own
	UNION ALL
	SELECT DISTINCT o.phone, a.code, true
	  FROM (SELECT an.code, an.distance FROM pakn.unit_ancestors(p_unit) an
		 WHERE EXISTS (SELECT 1 FROM pakn.official o
			WHERE o.unit_code = an.code AND o.active
			  AND (o.role = 'leader'
			       OR (an.distance > 0 AND o.role = ANY (p_roles))))
		 ORDER BY an.distance LIMIT 1) a
	  JOIN pakn.official o ON o.unit_code = a.code AND o.active
		AND (o.role = 'leader'
		     OR (a.distance > 0 AND o.role = ANY (p_roles)))
	 WHERE NOT EXISTS (SELECT 1 FROM own)
	 ORDER BY 1
$$;

-- The unit whose subtree a unit's officials may transfer within: the
-- nearest province above or at it, else the root of its tree.
CREATE OR REPLACE FUNCTION pakn.transfer_scope(p_unit text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT a.code FROM pakn.unit_ancestors(p_unit) a
		  WHERE a.kind = 'province' ORDER BY a.distance LIMIT 1),
		(SELECT a.code FROM pakn.unit_ancestors(p_unit) a
		  ORDER BY a.distance DESC LIMIT 1))
$$;

-- May an official of p_from transfer to p_to without anyone's consent?
CREATE OR REPLACE FUNCTION pakn.transfer_in_scope(p_from text, p_to text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce(pakn.unit_in_subtree(p_to, pakn.transfer_scope(p_from)),
		false)
$$;

-- May this official accept or refuse a transfer to p_to? A leader (or an
-- admin) of the receiving side: p_to in their subtree and their scope.
CREATE OR REPLACE FUNCTION pakn.transfer_may_decide(o pakn.official, p_to text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT o.id IS NOT NULL AND o.role IN ('leader', 'admin')
	   AND pakn.official_may(o, p_to)
	   AND pakn.transfer_in_scope(o.unit_code, p_to)
$$;

-- The variables of a transfer request for templates.
CREATE OR REPLACE FUNCTION pakn.transfer_vars(r pakn.transfer_request,
	p_extra jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT pakn.vars(r.complaint_id, jsonb_build_object(
		'from_unit', (SELECT name FROM pakn.unit WHERE code = r.from_unit),
		'to_unit', (SELECT name FROM pakn.unit WHERE code = r.to_unit),
		'province', (SELECT name FROM pakn.unit
			      WHERE code = pakn.transfer_scope(r.to_unit)),
		'reason', r.reason) || p_extra)
$$;

-- The phones of the leaders who decide a transfer to p_to: the receiving
-- province's leaders, else the nearest leaders above p_to.
CREATE OR REPLACE FUNCTION pakn.transfer_deciders(p_to text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	SELECT o.phone FROM pakn.official o
	 WHERE o.active AND o.role = 'leader'
	   AND o.unit_code = (SELECT a.code FROM pakn.unit_ancestors(p_to) a
		WHERE EXISTS (SELECT 1 FROM pakn.official l
			WHERE l.unit_code = a.code AND l.active AND l.role = 'leader')
		  AND pakn.unit_in_subtree(a.code, pakn.transfer_scope(p_to))
		ORDER BY a.code = pakn.transfer_scope(p_to) DESC, a.distance
		LIMIT 1)
$$;

-- Ask the receiving side to accept a transfer out of the province:
-- record the request, ledger it, tell the receiving leaders. Returns the
-- request (id NULL when one is pending already) and the SMS queued.
CREATE OR REPLACE FUNCTION pakn.transfer_request_new(p_id bigint, p_actor_id text,
	p_phone text, p_to text, p_reason text,
	OUT request pakn.transfer_request, OUT sms integer)
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	ph text;
BEGIN
	sms := 0;
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id;
	INSERT INTO pakn.transfer_request (complaint_id, from_unit, to_unit,
		actor_id, requester_phone, reason)
	VALUES (p_id, c.responsible_unit, p_to, p_actor_id, p_phone, p_reason)
	ON CONFLICT (complaint_id) WHERE state = 'pending' DO NOTHING
	RETURNING * INTO request;
	IF request.id IS NULL THEN
		RETURN;
	END IF;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'transfer_requested',
		p_reason, jsonb_build_object('from', c.responsible_unit, 'to', p_to,
			'request', request.id));
	FOR ph IN SELECT pakn.transfer_deciders(p_to) LOOP
		sms := sms + pakn.reply(c.gateway, ph, 'transfer_requested',
			pakn.transfer_vars(request), p_id, NULL, true);
	END LOOP;
END;
$$;

-- Accept (the complaint moves, the deadline stays, as any transfer) or
-- refuse (it stays) a pending request, ledgered; the requester is told.
-- Returns the request as it is now and the SMS queued; 'lapsed' when the
-- complaint is no longer open with the unit that asked.
CREATE OR REPLACE FUNCTION pakn.transfer_decide(r pakn.transfer_request,
	p_official text, p_accept boolean, p_reason text,
	OUT request pakn.transfer_request, OUT sms integer)
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_state text := CASE WHEN p_accept THEN 'accepted' ELSE 'refused' END;
	v_detail jsonb := jsonb_build_object('from', r.from_unit, 'to', r.to_unit,
		'request', r.id);
BEGIN
	sms := 0;
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = r.complaint_id
	   FOR UPDATE;
	IF c.status <> 'open' OR c.responsible_unit <> r.from_unit THEN
		v_state := 'lapsed';
	END IF;
	UPDATE pakn.transfer_request SET state = v_state, decided_at = now(),
		decided_by = p_official, decision_reason = p_reason
	 WHERE id = r.id RETURNING * INTO request;
	PERFORM pakn.ledger(c.id, 'official', p_official,
		'transfer_' || v_state, p_reason, v_detail);
	IF v_state = 'accepted' THEN
		sms := pakn.complaint_transfer(c.id, 'official', r.actor_id,
			r.to_unit, r.reason);
	END IF;
	IF v_state <> 'lapsed' AND r.requester_phone IS NOT NULL THEN
		sms := sms + pakn.reply(c.gateway, r.requester_phone,
			'transfer_' || v_state, pakn.transfer_vars(r,
				jsonb_build_object('reason', coalesce(p_reason, ''))),
			c.id, NULL, true);
	END IF;
END;
$$;
