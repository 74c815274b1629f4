-- functions/ussd.sql: USSD sessions and menus (daemon/ussd.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Remove up to 10 000 sessions idle for p_idle seconds (the janitor, run
-- by paknd's deadline pass, not by each step: a step removes only its own
-- session when it finds it expired). Returns how many.
CREATE OR REPLACE FUNCTION pakn.ussd_janitor(p_idle integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	DELETE FROM pakn.ussd_session s
	 WHERE (s.gateway, s.session_id) IN (
		SELECT x.gateway, x.session_id FROM pakn.ussd_session x
		 WHERE x.updated_at < now() - make_interval(secs => p_idle)
		 ORDER BY x.updated_at LIMIT 10000
		   FOR UPDATE SKIP LOCKED);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- What every session's menus list (026): the example commune, the PAPI
-- dimensions, the categories, the rated services. paknd keeps it until
-- pakn.ussd_menu_version changes.
CREATE OR REPLACE FUNCTION pakn.ussd_menus() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'example', pakn.example_commune(),
		'dims', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'code', d.code::text, 'label', d.short_vi) ORDER BY d.code),
				'[]')
			   FROM pakn.papi_dimension d),
		'cats', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'code', c.code, 'label', c.name, 'dim', c.dimension)
				ORDER BY c.dimension, c.code = 'general', c.name), '[]')
			   FROM pakn.category c),
		'svcs', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'code', s.code, 'label', s.name, 'dim', s.dimension)
				ORDER BY s.position, s.code), '[]')
			   FROM pakn.public_service s))
$$;

-- The menus' version now, and the menus unless p_menus (the version
-- paknd keeps) is already it.
CREATE OR REPLACE FUNCTION pakn.ussd_menus_since(p_menus bigint,
	OUT version bigint, OUT menus jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT v.version INTO version FROM pakn.ussd_menu_version v;
	IF version IS DISTINCT FROM p_menus THEN
		menus := pakn.ussd_menus();
	END IF;
END;
$$;

-- What the menus know of a citizen for one step: the registered commune,
-- p_code (the step's input) as a commune (a special zone is a commune a
-- citizen may choose), the open complaints (the 5 newest), the last
-- answered one. The citizen's complaints are read once for both lists,
-- and the commune looked up only when there is a code: four subqueries
-- in one query took twice the time (26-29 against 13-18 us a call).
CREATE OR REPLACE FUNCTION pakn.ussd_citizen(p_msisdn text, p_code text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	j jsonb;
BEGIN
	SELECT jsonb_build_object(
		'home', (SELECT jsonb_build_object('code', u.code, 'name', u.name)
			   FROM pakn.citizen c JOIN pakn.unit u ON u.code = c.home_unit
			  WHERE c.msisdn = p_msisdn),
		'unit', NULL::jsonb,
		'open', coalesce(to_jsonb((array_agg(jsonb_build_object(
				'ticket', t.ticket, 'status', pakn.status_vi(t.status),
				'due', coalesce(pakn.due_vi(t.due_at), ''))
				ORDER BY t.id DESC))[1:5]), '[]'),
		'answered', (array_agg(jsonb_build_object('id', t.id,
				'ticket', t.ticket)
				ORDER BY t.answered_at DESC, t.id DESC)
				FILTER (WHERE t.status = 'answered'))[1])
	  INTO j
	  FROM pakn.complaint t
	 WHERE t.msisdn = p_msisdn
	   AND t.status IN ('needs_location', 'open', 'answered');
	IF p_code IS NOT NULL THEN
		j := j || jsonb_build_object('unit', (SELECT jsonb_build_object(
				'code', u.code, 'name', u.name)
			   FROM pakn.unit u
			  WHERE u.code = p_code AND pakn.commune_level(u.kind)));
	END IF;
	RETURN j;
END;
$$;

-- A step paknd cannot compute from what it kept (a new instance, a
-- session another instance answered, a commune code to look up, a
-- replayed text): the stored answer of a replayed text, or expired (an
-- unknown, idle, foreign or overlong session), or the step number, the
-- previous text, the state and the citizen's part of the context; the
-- menus too when p_menus (paknd's version of them) is not the current
-- menus_version.
CREATE OR REPLACE FUNCTION pakn.ussd_begin(p_gateway text, p_session text,
	p_msisdn text, p_text text, p_code text, p_idle integer, p_menus bigint,
	OUT replay text, OUT expired boolean, OUT step integer, OUT prev text,
	OUT state jsonb, OUT ctx jsonb, OUT menus_version bigint,
	OUT menus jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	s pakn.ussd_session;
BEGIN
	SELECT n.version, n.menus INTO menus_version, menus
	  FROM pakn.ussd_menus_since(p_menus) n;
	SELECT * INTO s FROM pakn.ussd_session x
	 WHERE x.gateway = p_gateway AND x.session_id = p_session;
	IF s.updated_at < now() - make_interval(secs => p_idle) THEN
		-- Idle too long: gone (unless another step just revived it).
		DELETE FROM pakn.ussd_session x
		 WHERE x.gateway = p_gateway AND x.session_id = p_session
		   AND x.updated_at = s.updated_at;
		s := NULL;
	END IF;
	expired := (s.session_id IS NULL AND p_text <> '')
		OR coalesce(s.msisdn <> p_msisdn OR s.step >= 60, false);
	IF expired THEN
		RETURN;
	END IF;
	replay := s.answers->>p_text;
	IF replay IS NOT NULL THEN
		RETURN;
	END IF;
	step := coalesce(s.step, 0);
	prev := s.last_text;
	state := s.state;
	ctx := pakn.ussd_citizen(p_msisdn, p_code);
END;
$$;

-- Register a home commune by USSD; a complaint waiting for its location
-- is routed there, as after DK by SMS. Returns the SMS queued.
CREATE OR REPLACE FUNCTION pakn.ussd_register(p_msisdn text, p_unit text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_pending bigint := pakn.pending_location(p_msisdn);
BEGIN
	UPDATE pakn.citizen SET home_unit = p_unit, updated_at = now()
	 WHERE msisdn = p_msisdn;
	IF v_pending IS NULL THEN
		RETURN 0;
	END IF;
	PERFORM pakn.ledger(v_pending, 'citizen', NULL, 'located', NULL,
		jsonb_build_object('unit', p_unit));
	RETURN pakn.complaint_route(v_pending, p_unit, 'ack', NULL);
END;
$$;

-- A complaint made in the USSD menus: category and commune chosen by the
-- citizen; stored, routed and acknowledged by SMS (so the ticket outlives
-- the session). Returns the ticket.
CREATE OR REPLACE FUNCTION pakn.ussd_complaint(p_gateway text, p_msisdn text,
	p_category text, p_unit text, p_text text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
	v_id bigint;
	v_ticket text;
BEGIN
	SELECT * INTO STRICT v_cat FROM pakn.category WHERE code = p_category;
	v_ticket := pakn.ticket_encode(nextval('pakn.ticket_seq'));
	INSERT INTO pakn.complaint (ticket, msisdn, gateway, inbound_id,
		category_code, dimension, sensitive, status, text)
	VALUES (v_ticket, p_msisdn, p_gateway, NULL, v_cat.code,
		v_cat.dimension, v_cat.sensitive, 'needs_location', p_text)
	RETURNING id INTO v_id;
	PERFORM pakn.ledger(v_id, 'citizen', NULL, 'received', NULL,
		jsonb_build_object('category', v_cat.code, 'channel', 'ussd'));
	PERFORM pakn.complaint_route(v_id, p_unit, 'ack', NULL);
	RETURN v_ticket;
END;
$$;

-- Do the action of a final step (ussd_action_json); returns the answer,
-- with the ticket filled in, or the action's "fail" answer.
CREATE OR REPLACE FUNCTION pakn.ussd_act(p_gateway text, p_msisdn text, p_action jsonb,
	p_answer text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	INSERT INTO pakn.citizen (msisdn) VALUES (p_msisdn)
	ON CONFLICT (msisdn) DO NOTHING;
	CASE p_action->>'kind'
	WHEN 'complaint' THEN
		RETURN replace(p_answer, '{ticket}', pakn.ussd_complaint(p_gateway,
			p_msisdn, p_action->>'category', p_action->>'unit',
			p_action->>'text'));
	WHEN 'rate' THEN
		SELECT * INTO c FROM pakn.complaint
		 WHERE id = (p_action->>'complaint')::bigint AND msisdn = p_msisdn
		   FOR UPDATE;
		IF c.id IS NULL OR c.status <> 'answered' THEN
			RETURN coalesce(p_action->>'fail', p_answer);
		END IF;
		PERFORM pakn.complaint_rate(c.id, (p_action->>'score')::integer,
			NULL);
	WHEN 'rate_service' THEN
		INSERT INTO pakn.rating (complaint_id, unit_code, dimension, msisdn,
			score, service)
		SELECT NULL, p_action->>'unit', s.dimension, p_msisdn,
			(p_action->>'score')::smallint, s.code
		  FROM pakn.public_service s WHERE s.code = p_action->>'service';
	WHEN 'register' THEN
		PERFORM pakn.ussd_register(p_msisdn, p_action->>'unit');
	ELSE
		RAISE EXCEPTION 'unknown USSD action %', p_action->>'kind';
	END CASE;
	RETURN p_answer;
END;
$$;

-- Store a step paknd computed (state p_state, answer p_answer, action
-- p_action) if the session is still at step p_step (0: a new session)
-- and not idle, then do the action, in one transaction. status: 'saved',
-- and the answer (the action may change it) with the citizen's part of
-- the context for the next step (NULL once the session ends; '{}' when
-- p_citizen is false: paknd knows no input to the screen shown reads it,
-- and pakn.ussd_citizen is a quarter of a step's time); else 'elsewhere'
-- (another instance did this step first: its answer) or 'stale' (the
-- session moved on, or is gone: the last answer, or NULL; paknd begins
-- the step again when what it kept was old). The menus as in
-- pakn.ussd_begin, their version read here (a call of
-- pakn.ussd_menus_since was a tenth of a step).
-- (p_gather, [sms] notice_gather for the notices of a complaint the
-- step makes, came later: the function is made again.)
DROP FUNCTION IF EXISTS pakn.ussd_advance(text, text, text, text, text,
	integer, jsonb, text, jsonb, integer, bigint, boolean);
CREATE OR REPLACE FUNCTION pakn.ussd_advance(p_gateway text, p_session text,
	p_msisdn text, p_service text, p_text text, p_step integer,
	p_state jsonb, p_answer text, p_action jsonb, p_idle integer,
	p_menus bigint, p_citizen boolean, p_gather integer DEFAULT 0,
	OUT answer text, OUT status text, OUT ctx jsonb,
	OUT menus_version bigint, OUT menus jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	s pakn.ussd_session;
BEGIN
	SELECT v.version INTO menus_version FROM pakn.ussd_menu_version v;
	IF menus_version IS DISTINCT FROM p_menus THEN
		menus := pakn.ussd_menus();
	END IF;
	IF p_step = 0 THEN
		INSERT INTO pakn.ussd_session AS x (gateway, session_id, msisdn,
			service_code, step, last_text, state, answers)
		VALUES (p_gateway, p_session, p_msisdn, p_service, 1, p_text,
			p_state, jsonb_build_object(p_text, p_answer))
		ON CONFLICT (gateway, session_id) DO UPDATE
		   SET msisdn = excluded.msisdn, service_code = excluded.service_code,
		       step = 1, last_text = excluded.last_text,
		       state = excluded.state, answers = excluded.answers,
		       created_at = now(), updated_at = now()
		 WHERE x.updated_at < now() - make_interval(secs => p_idle)
		RETURNING * INTO s;
	ELSE
		UPDATE pakn.ussd_session x SET step = x.step + 1,
			last_text = p_text, state = p_state,
			answers = x.answers || jsonb_build_object(p_text, p_answer),
			updated_at = now()
		 WHERE x.gateway = p_gateway AND x.session_id = p_session
		   AND x.step = p_step AND x.msisdn = p_msisdn
		   AND x.updated_at >= now() - make_interval(secs => p_idle)
		RETURNING * INTO s;
	END IF;
	IF s.session_id IS NULL THEN
		SELECT x.answers->>p_text, coalesce(x.answers->>p_text,
				x.answers->>x.last_text)
		  INTO status, answer FROM pakn.ussd_session x
		 WHERE x.gateway = p_gateway AND x.session_id = p_session
		   AND x.msisdn = p_msisdn;
		status := CASE WHEN status IS NOT NULL THEN 'elsewhere'
			ELSE 'stale' END;
		RETURN;
	END IF;
	status := 'saved';
	answer := p_answer;
	IF p_action IS NOT NULL THEN
		-- A complaint's notices to its unit as processing's: held for
		-- a phone notified less than p_gather seconds ago (043).
		PERFORM set_config('pakn.notice_gather', p_gather::text, true);
		answer := pakn.ussd_act(p_gateway, p_msisdn, p_action, p_answer);
		IF answer IS DISTINCT FROM p_answer THEN
			UPDATE pakn.ussd_session x
			   SET answers = x.answers || jsonb_build_object(p_text, answer)
			 WHERE x.gateway = p_gateway AND x.session_id = p_session;
		END IF;
	END IF;
	IF answer LIKE 'CON%' THEN
		ctx := CASE WHEN p_citizen THEN pakn.ussd_citizen(p_msisdn, NULL)
			ELSE '{}' END;
	END IF;
END;
$$;

-- The call of an older paknd (no p_citizen), during an upgrade: the
-- citizen's part always.
CREATE OR REPLACE FUNCTION pakn.ussd_advance(p_gateway text, p_session text,
	p_msisdn text, p_service text, p_text text, p_step integer,
	p_state jsonb, p_answer text, p_action jsonb, p_idle integer,
	p_menus bigint,
	OUT answer text, OUT status text, OUT ctx jsonb,
	OUT menus_version bigint, OUT menus jsonb)
LANGUAGE sql AS $$
	SELECT * FROM pakn.ussd_advance(p_gateway, p_session, p_msisdn,
		p_service, p_text, p_step, p_state, p_answer, p_action, p_idle,
		p_menus, true)
$$;
