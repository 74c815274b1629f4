-- functions/complaints.sql: the complaint life cycle: create, route,
-- answer, transfer, reject, extend, reopen, close, rate; each writes
-- the ledger.
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Append one event to the ledger.
CREATE OR REPLACE FUNCTION pakn.ledger(p_complaint bigint, p_actor text, p_actor_id text,
	p_event text, p_reason text DEFAULT NULL, p_detail jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pakn.complaint_event (complaint_id, actor, actor_id, event,
		reason, detail)
	VALUES (p_complaint, p_actor, p_actor_id, p_event, p_reason, p_detail);
END;
$$;

-- The variables of a complaint for templates (pakn.complaint_vars of
-- 013): due is the date promised last (the apology's new date when there
-- is one), due_kind and due_label say what it is, first_due is the
-- deadline itself; the apology's reason and new date; the acceptance.
-- pakn.intake_process_batch calls it once for the new complaints alike
-- in all but id, ticket, text, msisdn, gateway, inbound_id, the place
-- and the unit (location_unit, responsible_unit, desk_reason), and sets
-- ticket, text and unit (its name) itself: a variable read from another
-- of those must be set there too.
CREATE OR REPLACE FUNCTION pakn.complaint_vars(p_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c pakn.complaint;
	r pakn.legal_rule;
	v_kind text;
BEGIN
	SELECT * INTO c FROM pakn.complaint x WHERE x.id = p_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	-- The complaint's rule and the kind of due date once (reading the
	-- legal rules twice was 13 us of a status query's reply).
	r := pakn.complaint_rule(c);
	v_kind := pakn.due_kind(c, r);
	RETURN (SELECT jsonb_build_object('ticket', c.ticket, 'category', cat.name,
		'unit', coalesce(u.name, ''),
		'due', coalesce(pakn.due_vi(coalesce(c.new_due_at, c.due_at)), ''),
		'due_note', pakn.due_note(coalesce(c.new_due_at, c.due_at)),
		'due_kind', v_kind,
		'due_label', upper(left(v_kind, 1)) || substr(v_kind, 2),
		'due_short', CASE v_kind WHEN 'hạn trả lời' THEN 'hạn'
			ELSE v_kind END,
		'first_due', coalesce(pakn.due_vi(c.due_at), ''),
		'new_due', coalesce(pakn.due_vi(c.new_due_at), ''),
		'reason', coalesce(c.apology_reason, ''),
		'accepted', coalesce(to_char(c.accepted_on, 'DD/MM/YYYY'), ''),
		'law', coalesce(r.name, ''),
		'status', pakn.status_vi(c.status), 'answer', coalesce(c.answer_text, ''),
		'answered', coalesce(pakn.date_vi(c.answered_at), ''),
		'text', left(c.text, 100))
	  FROM pakn.category cat
	  LEFT JOIN pakn.unit u ON u.code = c.responsible_unit
	 WHERE cat.code = c.category_code);
END;
$$;

-- A new complaint from a citizen (pakn.complaint_new of 013): its
-- category the one paknd's classifier found for p_text (pakn.category,
-- set by pakn.intake_process), else pakn.category_of's. One that names a
-- unit's code is stored routed there (one write of its row); else its
-- place is found by pakn.complaint_locate (a name, the registered
-- commune, else the question). Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_new(p_gateway text, p_msisdn text,
	p_inbound bigint, p_text text, p_unit text, p_keyword boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
	v_loc text;
	v_unit text;
	v_due timestamptz;
	v_desk text;
	c pakn.complaint;
BEGIN
	SELECT * INTO v_cat FROM pakn.category
	 WHERE code = nullif(current_setting('pakn.category', true), '');
	IF NOT FOUND THEN
		SELECT * INTO STRICT v_cat FROM pakn.category
		 WHERE code = pakn.category_of(p_text);
	END IF;
	c.ticket := pakn.ticket_encode(nextval('pakn.ticket_seq'));
	c.category_code := v_cat.code;
	c.sensitive := v_cat.sensitive;
	c.triage := v_cat.code = 'general' AND pakn.fits_no_category(p_text);
	c.created_at := now();
	SELECT u.code INTO v_loc FROM pakn.unit u WHERE u.code = p_unit;
	IF v_loc IS NOT NULL THEN
		SELECT f.unit, f.due_at, f.desk_reason INTO v_unit, v_due, v_desk
		  FROM pakn.route_fields(c, v_loc) f;
	END IF;
	INSERT INTO pakn.complaint (ticket, msisdn, gateway, inbound_id,
		category_code, dimension, sensitive, status, text, triage,
		location_unit, responsible_unit, routed_at, due_at, desk_reason)
	VALUES (c.ticket, p_msisdn, p_gateway, p_inbound, v_cat.code,
		v_cat.dimension, v_cat.sensitive,
		CASE WHEN v_loc IS NULL THEN 'needs_location' ELSE 'open' END,
		p_text, c.triage, v_loc, v_unit,
		CASE WHEN v_loc IS NOT NULL THEN now() END, v_due, v_desk)
	RETURNING * INTO c;
	PERFORM pakn.ledger(c.id, 'citizen', NULL, 'received', NULL,
		jsonb_build_object('category', v_cat.code, 'keyword', p_keyword));
	IF v_loc IS NOT NULL THEN
		RETURN pakn.complaint_routed(c, CASE WHEN p_keyword THEN 'ack'
			ELSE 'ack_nokeyword' END, p_inbound);
	END IF;
	RETURN pakn.complaint_locate(c.id, p_msisdn, p_text, p_unit, p_keyword,
		p_inbound);
END;
$$;

-- Answer a complaint (by SMS from an official, or the API): record it,
-- relay it to the citizen, ask for a rating. Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_answer(p_id bigint, p_actor_id text,
	p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET status = 'answered', answer_text = p_text,
		answered_at = now(), rating_asked_at = now()
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'answered', NULL,
		jsonb_build_object('text', p_text,
			'on_time', c.answered_at <= c.due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'answer', pakn.complaint_vars(p_id),
		p_id, p_inbound)
	     + pakn.reply(c.gateway, c.msisdn, 'ask_rating',
		pakn.complaint_vars(p_id), p_id, p_inbound, false);
END;
$$;

-- Hand a complaint to another unit; the deadline stays (the law counts
-- from acceptance). Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_transfer(p_id bigint, p_actor text,
	p_actor_id text, p_unit text, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_from text;
BEGIN
	SELECT responsible_unit INTO v_from FROM pakn.complaint WHERE id = p_id;
	UPDATE pakn.complaint SET responsible_unit = p_unit
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, p_actor, p_actor_id, 'transferred', p_reason,
		jsonb_build_object('from', v_from, 'to', p_unit));
	RETURN pakn.reply(c.gateway, c.msisdn, 'transferred',
		pakn.complaint_vars(p_id), p_id, NULL, false)
	     + pakn.notify_unit(p_unit, '{officer,leader}', 'new_complaint', p_id);
END;
$$;

-- Refuse a complaint as outside the unit's remit, with the reason.
CREATE OR REPLACE FUNCTION pakn.complaint_reject(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET status = 'rejected', close_reason = 'rejected',
		closed_at = now()
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'rejected', p_reason);
	RETURN pakn.reply(c.gateway, c.msisdn, 'rejected',
		pakn.vars(p_id, jsonb_build_object('reason', p_reason)), p_id, NULL);
END;
$$;

-- Extend the deadline once (complex case, remote area), with the reason.
-- Returns the number of SMS queued, or -1 if it was extended already.
CREATE OR REPLACE FUNCTION pakn.complaint_extend(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	cat pakn.category;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	IF c.extended THEN
		RETURN -1;
	END IF;
	SELECT * INTO STRICT cat FROM pakn.category WHERE code = c.category_code;
	UPDATE pakn.complaint SET extended = true,
		due_at = pakn.due_after(c.due_at - interval '1 second',
			cat.extension_days, cat.working_days)
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'extended', p_reason,
		jsonb_build_object('due_at', c.due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'extended',
		pakn.vars(p_id, jsonb_build_object('reason', p_reason)), p_id, NULL);
END;
$$;

-- Reopen an answered or closed complaint to the same unit with a new
-- deadline (by an official, or by the citizen's low rating).
CREATE OR REPLACE FUNCTION pakn.complaint_reopen(p_id bigint, p_actor text,
	p_actor_id text, p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	UPDATE pakn.complaint SET status = 'open', reopen_count = reopen_count + 1,
		due_at = pakn.due_at(c.category_code, now()), overdue = false,
		reminded_at = NULL, escalated_at = NULL, apologized_at = NULL,
		new_due_at = NULL, answered_at = NULL, answer_text = NULL,
		rating_asked_at = NULL, closed_at = NULL, close_reason = NULL
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, p_actor, p_actor_id, 'reopened', p_reason,
		jsonb_build_object('due_at', c.due_at));
END;
$$;

-- Close a complaint.
CREATE OR REPLACE FUNCTION pakn.complaint_close(p_id bigint, p_actor text,
	p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE pakn.complaint SET status = 'closed', close_reason = p_reason,
		closed_at = now(), rating_asked_at = NULL
	 WHERE id = p_id;
	PERFORM pakn.ledger(p_id, p_actor, NULL, 'closed', p_reason);
END;
$$;

-- A citizen's rating of an answered complaint: 4-5 or 3 close it; 1-2
-- ("not solved") reopen it once to the same unit, then close it as
-- unresolved. Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_rate(p_id bigint, p_score integer,
	p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_unit text;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	IF c.status <> 'answered' THEN
		RETURN pakn.reply(c.gateway, c.msisdn, 'cannot_rate',
			pakn.complaint_vars(p_id), p_id, p_inbound);
	END IF;
	INSERT INTO pakn.rating (complaint_id, unit_code, dimension, msisdn,
		score, inbound_id)
	VALUES (p_id, c.responsible_unit, c.dimension, c.msisdn, p_score,
		p_inbound);
	PERFORM pakn.ledger(p_id, 'citizen', NULL, 'rated', NULL,
		jsonb_build_object('score', p_score));
	IF p_score >= 3 THEN
		PERFORM pakn.complaint_close(p_id, 'citizen', 'confirmed');
		RETURN pakn.reply(c.gateway, c.msisdn, 'rated_closed',
			pakn.vars(p_id, jsonb_build_object('score', p_score)),
			p_id, p_inbound);
	ELSIF c.reopen_count = 0 THEN
		PERFORM pakn.complaint_reopen(p_id, 'citizen', NULL, 'not solved');
		v_unit := c.responsible_unit;
		RETURN pakn.reply(c.gateway, c.msisdn, 'rated_reopened',
			pakn.complaint_vars(p_id), p_id, p_inbound)
		     + pakn.notify_unit(v_unit, '{officer,leader}', 'new_complaint',
			p_id);
	END IF;
	PERFORM pakn.complaint_close(p_id, 'citizen', 'unresolved');
	RETURN pakn.reply(c.gateway, c.msisdn, 'rated_unresolved',
		pakn.vars(p_id, jsonb_build_object('score', p_score)), p_id,
		p_inbound)
	     + pakn.notify_unit(c.responsible_unit, '{leader}', 'unresolved',
		p_id);
END;
$$;

-- A complaint's state rebuilt from its ledger alone (pakn.complaint_replay
-- of 006, with the desk's forwarding: place, unit and a new deadline).
CREATE OR REPLACE FUNCTION pakn.complaint_replay(p_id bigint,
	OUT status text, OUT responsible_unit text, OUT location_unit text,
	OUT due_at timestamptz, OUT extended boolean, OUT overdue boolean,
	OUT reopen_count integer, OUT close_reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e pakn.complaint_event;
BEGIN
	extended := false; overdue := false; reopen_count := 0;
	FOR e IN SELECT * FROM pakn.complaint_event WHERE complaint_id = p_id
		  ORDER BY id LOOP
		CASE e.event
		WHEN 'received' THEN status := 'needs_location';
		WHEN 'routed' THEN
			status := 'open';
			location_unit := e.detail->>'location';
			responsible_unit := e.detail->>'unit';
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'transferred' THEN responsible_unit := e.detail->>'to';
		WHEN 'forwarded' THEN
			location_unit := e.detail->>'location';
			responsible_unit := e.detail->>'unit';
			due_at := (e.detail->>'due_at')::timestamptz;
			overdue := false;
		WHEN 'extended' THEN
			extended := true;
			due_at := (e.detail->>'due_at')::timestamptz;
		-- 016: the legal clock's steps set the due date too.
		WHEN 'accepted' THEN
			overdue := false;
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'marked_complex', 'resumed' THEN
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'escalated' THEN overdue := true;
		WHEN 'answered' THEN status := 'answered';
		WHEN 'reopened' THEN
			status := 'open';
			reopen_count := reopen_count + 1;
			overdue := false;
			close_reason := NULL;
			due_at := (e.detail->>'due_at')::timestamptz;
		WHEN 'withdrawn' THEN status := 'withdrawn'; close_reason := 'withdrawn';
		WHEN 'rejected' THEN status := 'rejected'; close_reason := 'rejected';
		WHEN 'closed' THEN status := 'closed'; close_reason := e.reason;
		ELSE NULL;
		END CASE;
	END LOOP;
END;
$$;

-- Route a complaint that knows its location (pakn.complaint_route of
-- 006): one that fits no category goes to the triage desk covering the
-- place, when there is one (pakn.route_received). Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_route(p_id bigint, p_location text,
	p_template text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	r record;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	SELECT * INTO r FROM pakn.route_fields(c, p_location);
	UPDATE pakn.complaint SET location_unit = p_location,
		responsible_unit = r.unit, status = 'open', routed_at = now(),
		due_at = r.due_at, desk_reason = r.desk_reason
	 WHERE id = p_id RETURNING * INTO c;
	RETURN pakn.complaint_routed(c, p_template, p_inbound);
END;
$$;

-- Where a complaint received at p_location goes: the unit
-- (pakn.route_received), its due date, and why it is at the triage desk
-- (it fits no category) if it is.
CREATE OR REPLACE FUNCTION pakn.route_fields(c pakn.complaint,
	p_location text, OUT unit text, OUT due_at timestamptz,
	OUT desk_reason text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT r.unit, r.desk_reason INTO unit, desk_reason
	  FROM pakn.route_unit(c, p_location) r;
	due_at := pakn.due_at(c.category_code, c.created_at);
END;
$$;

-- pakn.route_fields but the due date, which depends on the category and
-- the time alone: pakn.intake_process_batch asks for it once for each
-- category of a batch, and for this once for each place.
CREATE OR REPLACE FUNCTION pakn.route_unit(c pakn.complaint,
	p_location text, OUT unit text, OUT desk_reason text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	unit := pakn.route_received(c, p_location);
	desk_reason := CASE WHEN c.triage AND pakn.is_desk(unit)
		THEN 'no_category' END;
END;
$$;

-- A complaint just routed (its row says where): the ledger's routed and
-- assigned, p_template to the citizen, the unit's notice. Returns the SMS
-- queued.
CREATE OR REPLACE FUNCTION pakn.complaint_routed(c pakn.complaint,
	p_template text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pakn.ledger(c.id, 'system', NULL, 'routed', NULL,
		jsonb_build_object('location', c.location_unit,
			'unit', c.responsible_unit, 'due_at', c.due_at));
	PERFORM pakn.ledger(c.id, 'system', NULL, 'assigned', NULL,
		jsonb_build_object('unit', c.responsible_unit));
	RETURN pakn.reply(c.gateway, c.msisdn, p_template,
		pakn.complaint_vars(c.id), c.id, p_inbound)
	     + pakn.notify_unit(c.responsible_unit, '{officer,leader}',
		'new_complaint', c.id);
END;
$$;

-- File a complaint in a category (an official's decision, in the
-- ledger); it leaves triage. A sensitive category takes it to the
-- inspection unit (pakn.route), away from the unit that had it. The due
-- date stays. Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.complaint_classify(p_id bigint, p_actor_id text,
	p_category text, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	cat pakn.category;
	v_from text;
	v_unit text;
BEGIN
	SELECT * INTO STRICT cat FROM pakn.category WHERE code = p_category;
	SELECT category_code INTO v_from FROM pakn.complaint WHERE id = p_id;
	UPDATE pakn.complaint SET category_code = cat.code,
		dimension = cat.dimension, sensitive = cat.sensitive, triage = false
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'classified', p_reason,
		jsonb_build_object('category', cat.code, 'from', v_from));
	v_unit := pakn.route(cat.code, c.location_unit);
	IF cat.sensitive AND v_unit IS DISTINCT FROM c.responsible_unit THEN
		RETURN pakn.complaint_transfer(p_id, 'system', NULL, v_unit,
			'báo cáo tham nhũng chuyển cơ quan thanh tra');
	END IF;
	RETURN 0;
END;
$$;

-- A complaint's rule.
CREATE OR REPLACE FUNCTION pakn.complaint_rule(c pakn.complaint) RETURNS pakn.legal_rule
LANGUAGE sql STABLE AS $$
	SELECT pakn.legal_rule_for(c.category_code, c.created_at)
$$;

-- Is the place of a complaint, or the unit answering it, a remote area?
CREATE OR REPLACE FUNCTION pakn.complaint_remote(c pakn.complaint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pakn.unit u
		WHERE u.remote AND (u.code = c.responsible_unit
			OR u.code IN (SELECT a.code
				FROM pakn.unit_ancestors(c.location_unit) a
				WHERE a.distance = 0 OR pakn.commune_level(a.kind))))
$$;

-- Accept (thụ lý) on p_on: the resolution clock starts; the place's
-- remoteness is fixed now. Late acceptance stays in the ledger; the new
-- clock is not overdue.
CREATE OR REPLACE FUNCTION pakn.complaint_accept(p_id bigint, p_actor_id text,
	p_on date, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_accept_due timestamptz;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_accept_due := pakn.accept_due(c.category_code, c.created_at);
	c.accepted_on := p_on;
	c.remote := pakn.complaint_remote(c);
	UPDATE pakn.complaint SET accepted_on = p_on, remote = c.remote,
		due_at = pakn.resolve_due(c), overdue = false,
		new_due_at = NULL, apologized_at = NULL, apology_reason = NULL
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'accepted', p_reason,
		jsonb_build_object('date', p_on, 'due_at', c.due_at,
			'remote', c.remote, 'rule', (pakn.complaint_rule(c)).id,
			'on_time', pakn.day_end(p_on) <= v_accept_due));
	RETURN pakn.reply(c.gateway, c.msisdn, 'accepted',
		pakn.complaint_vars(p_id), p_id, p_inbound);
END;
$$;

-- Recompute an accepted complaint's resolution due date after a change
-- of its clock (complex, extension, resume), ledger the event and tell
-- the citizen why. An apology's date the new due date passes is dropped.
CREATE OR REPLACE FUNCTION pakn.complaint_reclock(c pakn.complaint, p_actor_id text,
	p_event text, p_reason text, p_why text, p_detail jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	IF c.accepted_on IS NOT NULL THEN
		c.due_at := pakn.resolve_due(c);
	END IF;
	UPDATE pakn.complaint SET complex = c.complex, extensions = c.extensions,
		extended = c.extended, suspended_on = c.suspended_on,
		suspended_days = c.suspended_days, due_at = c.due_at,
		new_due_at = CASE WHEN new_due_at > c.due_at THEN new_due_at END,
		apology_reason = CASE WHEN new_due_at > c.due_at
			THEN apology_reason END
	 WHERE id = c.id;
	PERFORM pakn.ledger(c.id, 'official', p_actor_id, p_event, p_reason,
		p_detail || jsonb_build_object('due_at', c.due_at));
	IF c.accepted_on IS NULL THEN
		RETURN 0;
	END IF;
	RETURN pakn.reply(c.gateway, c.msisdn, 'clock_changed',
		pakn.vars(c.id, jsonb_build_object('why', p_why)), c.id, NULL);
END;
$$;

-- Mark a complaint complex (Law on Complaints art. 28): its period is
-- the longer one.
CREATE OR REPLACE FUNCTION pakn.complaint_complex(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	c.complex := true;
	RETURN pakn.complaint_reclock(c, p_actor_id, 'marked_complex', p_reason,
		'vụ việc phức tạp, thời hạn giải quyết kéo dài theo luật');
END;
$$;

-- Extend a denunciation's resolution by the law's extension (Law on
-- Denunciations art. 30: at most twice, 30 days each).
CREATE OR REPLACE FUNCTION pakn.complaint_extend_legal(p_id bigint, p_actor_id text,
	p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	c.extensions := c.extensions + 1;
	c.extended := true;
	RETURN pakn.complaint_reclock(c, p_actor_id, 'extended', p_reason,
		format('gia hạn giải quyết lần %s (%s)', c.extensions, p_reason),
		jsonb_build_object('extension', c.extensions));
END;
$$;

-- Suspend the resolution from p_on (the clock pauses; the deadline
-- worker leaves the complaint alone until it resumes).
CREATE OR REPLACE FUNCTION pakn.complaint_suspend(p_id bigint, p_actor_id text,
	p_on date, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	UPDATE pakn.complaint SET suspended_on = p_on
	 WHERE id = p_id RETURNING * INTO STRICT c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'suspended', p_reason,
		jsonb_build_object('date', p_on));
	RETURN pakn.reply(c.gateway, c.msisdn, 'suspended',
		pakn.vars(p_id, jsonb_build_object('since',
			to_char(p_on, 'DD/MM/YYYY'), 'reason', p_reason)), p_id, NULL);
END;
$$;

-- Resume on p_on: the suspended days are added to the period, so the
-- due date moves by them.
CREATE OR REPLACE FUNCTION pakn.complaint_resume(p_id bigint, p_actor_id text,
	p_on date, p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_days integer;
BEGIN
	SELECT * INTO STRICT c FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	v_days := p_on - c.suspended_on;
	c.suspended_days := c.suspended_days + v_days;
	c.suspended_on := NULL;
	RETURN pakn.complaint_reclock(c, p_actor_id, 'resumed', p_reason,
		format('tiếp tục giải quyết sau %s ngày tạm dừng', v_days),
		jsonb_build_object('date', p_on, 'days', v_days));
END;
$$;

-- The responsible unit's apology: the reason and a new date (checked by
-- pakn.clock_check), told to the citizen; the deadline worker watches
-- the new date.
CREATE OR REPLACE FUNCTION pakn.complaint_apologize(p_id bigint, p_actor_id text,
	p_new_due date, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_due text;
BEGIN
	SELECT pakn.due_vi(coalesce(new_due_at, due_at)) INTO STRICT v_due
	  FROM pakn.complaint WHERE id = p_id FOR UPDATE;
	UPDATE pakn.complaint SET apologized_at = now(),
		new_due_at = pakn.day_end(p_new_due), apology_reason = p_reason
	 WHERE id = p_id RETURNING * INTO c;
	PERFORM pakn.ledger(p_id, 'official', p_actor_id, 'apologised',
		p_reason, jsonb_build_object('new_due_at', c.new_due_at));
	RETURN pakn.reply(c.gateway, c.msisdn, 'apology',
		pakn.vars(p_id, jsonb_build_object('due', v_due)), p_id, p_inbound);
END;
$$;

-- File a complaint of a known category at a known location (Open311, a
-- survey's "asked for money"): ledgered, routed (a sensitive category to
-- the inspection unit, never the place itself), acked with p_template.
CREATE OR REPLACE FUNCTION pakn.complaint_file(p_gateway text, p_msisdn text,
	p_category text, p_text text, p_location text, p_template text,
	p_detail jsonb, OUT new_id bigint, OUT queued integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
BEGIN
	SELECT * INTO STRICT v_cat FROM pakn.category WHERE code = p_category;
	INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
	ON CONFLICT (msisdn) DO NOTHING;
	INSERT INTO pakn.complaint (ticket, msisdn, gateway, category_code,
		dimension, sensitive, status, text)
	VALUES (pakn.ticket_encode(nextval('pakn.ticket_seq')), p_msisdn,
		p_gateway, v_cat.code, v_cat.dimension, v_cat.sensitive,
		'needs_location', p_text)
	RETURNING complaint.id INTO new_id;
	PERFORM pakn.ledger(new_id, 'citizen', NULL, 'received', NULL,
		jsonb_build_object('category', v_cat.code, 'keyword', true)
		|| p_detail);
	queued := pakn.complaint_route(new_id, p_location, p_template, NULL);
END;
$$;
