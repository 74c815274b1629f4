-- functions/api.sql: the officials' JSON API: one function per request,
-- each answering {status, body, sms} (daemon/api.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- An answer of the API.
CREATE OR REPLACE FUNCTION pakn.api_reply(p_status integer, p_body jsonb,
	p_sms integer DEFAULT 0)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('status', p_status, 'body', p_body,
		'sms', p_sms)
$$;

-- An error answer: a stable code and a message for people.
CREATE OR REPLACE FUNCTION pakn.api_error(p_status integer, p_code text, p_message text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.api_reply(p_status, jsonb_build_object('error',
		jsonb_build_object('code', p_code, 'message', p_message)))
$$;

-- The same answer for a ticket that does not exist and for one the
-- caller may not see, so tickets of other units cannot be probed.
CREATE OR REPLACE FUNCTION pakn.api_not_found() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.api_error(404, 'not_found', 'no such complaint')
$$;

CREATE OR REPLACE FUNCTION pakn.api_unauthorized() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.api_error(401, 'unauthorized',
		'invalid, revoked or expired token')
$$;

-- The official of a bearer token (NULL fields if none), noting the
-- token's use at most once a minute and never waiting for a lock.
CREATE OR REPLACE FUNCTION pakn.api_auth(p_token text) RETURNS pakn.official
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.token_official(p_token);
BEGIN
	IF o.id IS NOT NULL THEN
		UPDATE pakn.api_token SET last_used_at = now()
		 WHERE id IN (SELECT t.id FROM pakn.api_token t
			WHERE t.token_hash = sha256(convert_to(p_token, 'UTF8'))
			  AND (t.last_used_at IS NULL
			       OR t.last_used_at < now() - interval '1 minute')
			FOR UPDATE SKIP LOCKED);
	END IF;
	RETURN o;
END;
$$;

-- The units whose complaints an official sees: an officer their unit, a
-- leader or an admin their unit's subtree.
CREATE OR REPLACE FUNCTION pakn.api_units(o pakn.official) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE down(code, depth) AS (
		SELECT o.unit_code, 0
		UNION ALL
		SELECT u.code, down.depth + 1
		  FROM pakn.unit u JOIN down ON u.parent_code = down.code
		 WHERE o.role <> 'officer' AND down.depth < 64)
	SELECT code FROM down
$$;

-- A moment as ISO 8601 UTC, or NULL.
CREATE OR REPLACE FUNCTION pakn.api_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- A unit as {code, name}, or NULL.
CREATE OR REPLACE FUNCTION pakn.api_unit(p_code text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('code', u.code, 'name', u.name)
	  FROM pakn.unit u WHERE u.code = p_code
$$;

-- Is the complaint past its deadline (open and late, or answered late)?
CREATE OR REPLACE FUNCTION pakn.api_overdue(c pakn.complaint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT c.overdue OR coalesce(c.status = 'open' AND now() >= c.due_at,
		false) OR coalesce(c.answered_at > c.due_at, false)
$$;

-- A citizen as officials see them: "CD-" and 8 hex digits of
-- SHA-256(secret || msisdn), the same for all of a citizen's reports;
-- NULL without a secret (a bare hash of a phone number is guessable).
CREATE OR REPLACE FUNCTION pakn.api_pseudonym(p_msisdn text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT 'CD-' || upper(left(encode(sha256(convert_to(s.value || p_msisdn,
		'UTF8')), 'hex'), 8))
	  FROM pakn.setting s WHERE s.name = 'pseudonym_secret'
$$;

-- A complaint's category and PAPI dimension as the API shows them.
CREATE OR REPLACE FUNCTION pakn.api_category_json(p_code text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('code', cat.code, 'name', cat.name)
	  FROM pakn.category cat WHERE cat.code = p_code
$$;
CREATE OR REPLACE FUNCTION pakn.api_dimension_json(p_code smallint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('code', d.code, 'name', d.name_vi,
		'name_en', d.name_en)
	  FROM pakn.papi_dimension d WHERE d.code = p_code
$$;

-- A complaint as the API shows it (pakn.api_complaint of 013) with its
-- clock; a suspended clock is not overdue. One expression, no FROM, so
-- that PostgreSQL inlines it into the statement that lists complaints:
-- with the category and the dimension joined here it ran as a query of
-- its own for each complaint, its large plan started at every call
-- (0.75 ms a complaint on a scratch cluster, 0.37 inlined; GET
-- /v1/desk and a page of /v1/complaints list up to 100).
-- check_api's test_complaint_inlined.
CREATE OR REPLACE FUNCTION pakn.api_complaint(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'ticket', c.ticket, 'status', c.status,
		'category', pakn.api_category_json(c.category_code),
		'dimension', pakn.api_dimension_json(c.dimension),
		'location_unit', pakn.api_unit(c.location_unit),
		'responsible_unit', pakn.api_unit(c.responsible_unit),
		'text', c.text,
		'created_at', pakn.api_time(c.created_at),
		'due_at', pakn.api_time(c.due_at),
		'due_date', to_char(pakn.local_date(c.due_at - interval '1 second'),
			'YYYY-MM-DD'),
		'new_due_date', to_char(pakn.local_date(c.new_due_at
			- interval '1 second'), 'YYYY-MM-DD'),
		'due_provisional', pakn.due_provisional(c.due_at),
		'due_calendar', CASE WHEN c.due_at IS NOT NULL THEN
			jsonb_build_object('year', pakn.due_year(c.due_at),
				'status', pakn.calendar_status(pakn.due_year(c.due_at)))
			END,
		'overdue', pakn.api_overdue(c) AND c.suspended_on IS NULL,
		'extended', c.extended, 'reopen_count', c.reopen_count,
		'answer', c.answer_text,
		'answered_at', pakn.api_time(c.answered_at),
		'closed_at', pakn.api_time(c.closed_at),
		'close_reason', c.close_reason,
		'triage', c.triage,
		'sensitive', c.sensitive, 'anonymous', c.sensitive,
		'citizen', CASE WHEN c.sensitive
			THEN pakn.api_report_pseudonym(c.id)
			ELSE pakn.api_pseudonym(c.msisdn) END,
		'clock', pakn.api_clock_json(c))
$$;

-- What officials see of the new events' details: add the clock's keys
-- (pakn.api_detail of 007).
CREATE OR REPLACE FUNCTION pakn.api_detail(p_detail jsonb, p_sensitive boolean)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')
	  FROM jsonb_each(p_detail) e
	 WHERE e.key IN ('unit', 'from', 'to', 'parent', 'due_at', 'new_due_at',
			'on_time', 'category', 'date', 'days', 'remote', 'rule',
			'extension', 'again')
	    OR (NOT p_sensitive AND e.key IN ('text', 'location', 'score'))
$$;

-- A complaint's history from the ledger. The actor is an official's id
-- and name when an official acted through the API or a registered phone;
-- a unit phone's number is never shown.
CREATE OR REPLACE FUNCTION pakn.api_history(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'at', pakn.api_time(e.at), 'actor', e.actor,
		'official', CASE WHEN o.id IS NOT NULL THEN
			jsonb_build_object('id', o.id, 'name', o.name) END,
		'event', e.event, 'reason', e.reason,
		'detail', pakn.api_detail(e.detail, c.sensitive)) ORDER BY e.id),
		'[]')
	  FROM pakn.complaint_event e
	  LEFT JOIN pakn.official o ON e.actor = 'official'
		AND e.actor_id ~ '^[0-9]{1,18}$' AND o.id = e.actor_id::bigint
	 WHERE e.complaint_id = c.id
$$;

-- A complaint by ticket if the official may see it, else NULL fields.
CREATE OR REPLACE FUNCTION pakn.api_find(o pakn.official, p_ticket text,
	p_lock boolean DEFAULT false)
RETURNS pakn.complaint
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
BEGIN
	IF p_lock THEN
		SELECT * INTO c FROM pakn.complaint WHERE ticket = upper(p_ticket)
		   FOR UPDATE;
	ELSE
		SELECT * INTO c FROM pakn.complaint WHERE ticket = upper(p_ticket);
	END IF;
	IF c.id IS NULL OR NOT pakn.official_may(o, c.responsible_unit) THEN
		c := NULL;
	END IF;
	RETURN c;
END;
$$;

-- The complaint with its history, as GET /v1/complaints/{ticket} and the
-- actions answer it.
CREATE OR REPLACE FUNCTION pakn.api_complaint_full(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT pakn.api_complaint(c) || jsonb_build_object('history',
		pakn.api_history(c))
	  FROM pakn.complaint c WHERE c.id = p_id
$$;

-- Check the filters of a queue; NULL if they are fine, else an error
-- (pakn.api_list_check of 007, with status triage).
CREATE OR REPLACE FUNCTION pakn.api_list_check(p_status text[], p_category text,
	p_dimension integer, p_limit integer, p_offset integer, p_sort text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_bad text;
BEGIN
	SELECT s INTO v_bad FROM unnest(p_status) s
	 WHERE s NOT IN ('needs_location', 'open', 'triage', 'answered',
		'withdrawn', 'rejected', 'closed') LIMIT 1;
	IF v_bad IS NOT NULL THEN
		RETURN pakn.api_error(400, 'bad_request', format('status: unknown '
			'status "%s" (open, triage, answered, rejected, closed, '
			'withdrawn, needs_location)', v_bad));
	ELSIF p_category IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pakn.category
			WHERE code = p_category) THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('category: unknown category "%s"', p_category));
	ELSIF p_dimension IS NOT NULL AND p_dimension NOT BETWEEN 1 AND 8 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'dimension: must be 1 to 8');
	ELSIF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100
			OR p_offset IS NULL OR p_offset < 0 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'limit: 1 to 100, offset: 0 or more');
	ELSIF p_sort IS NOT NULL AND p_sort NOT IN ('due', 'newest') THEN
		RETURN pakn.api_error(400, 'bad_request', 'sort: due or newest');
	END IF;
	RETURN NULL;
END;
$$;

-- GET /v1/complaints: the caller's queue (pakn.api_list of 007, with
-- status triage: the open complaints that fit no category). p_status is
-- one status or a comma-separated list; NULL filters match everything. Sorted by
-- deadline (most urgent first) when only open complaints are asked for
-- or p_sort is 'due', else newest first.
CREATE OR REPLACE FUNCTION pakn.api_list(p_token text, p_status text, p_overdue boolean,
	p_category text, p_dimension integer, p_limit integer, p_offset integer,
	p_sort text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_status text[] := string_to_array(p_status, ',');
	v_due boolean := coalesce(p_sort = 'due', v_status = '{open}'
		OR v_status = '{triage}');
	v_err jsonb;
	v_total bigint;
	v_items jsonb;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	v_err := pakn.api_list_check(v_status, p_category, p_dimension, p_limit,
		p_offset, p_sort);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	END IF;
	WITH hits AS MATERIALIZED (
		SELECT c FROM pakn.complaint c
		 WHERE c.responsible_unit IN (SELECT pakn.api_units(o))
		   AND (v_status IS NULL OR c.status = ANY (v_status)
			OR ('triage' = ANY (v_status) AND c.status = 'open'
			    AND c.triage))
		   AND (p_overdue IS NULL OR pakn.api_overdue(c) = p_overdue)
		   AND (p_category IS NULL OR c.category_code = p_category)
		   AND (p_dimension IS NULL OR c.dimension = p_dimension))
	SELECT (SELECT count(*) FROM hits),
	       (SELECT coalesce(jsonb_agg(pakn.api_complaint(p.c) ORDER BY p.n),
			'[]')
		  FROM (SELECT h.c, row_number() OVER (ORDER BY
				CASE WHEN v_due THEN (h.c).due_at END ASC NULLS LAST,
				(h.c).created_at DESC, (h.c).id DESC) AS n
			  FROM hits h) p
		 WHERE p.n > p_offset AND p.n <= p_offset + p_limit)
	  INTO v_total, v_items;
	RETURN pakn.api_reply(200, jsonb_build_object('total', v_total,
		'limit', p_limit, 'offset', p_offset,
		'sort', CASE WHEN v_due THEN 'due' ELSE 'newest' END,
		'complaints', v_items));
END;
$$;

-- GET /v1/complaints/{ticket}: one complaint with its history.
CREATE OR REPLACE FUNCTION pakn.api_show(p_token text, p_ticket text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	c pakn.complaint;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	c := pakn.api_find(o, p_ticket);
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	END IF;
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id));
END;
$$;

-- A required text argument of an action, trimmed; NULL if it is absent,
-- not a string, or blank.
CREATE OR REPLACE FUNCTION pakn.api_arg(p_args jsonb, p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT nullif(btrim(p_args->>p_name, E' \t\r\n'), '')
	 WHERE jsonb_typeof(p_args->p_name) = 'string'
$$;

-- Why an action may not be done now (an error answer), or NULL
-- (pakn.api_act_check of 007, with classify {"category"}).
CREATE OR REPLACE FUNCTION pakn.api_act_check(c pakn.complaint, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_field text := CASE p_action WHEN 'answer' THEN 'text' ELSE 'reason' END;
	v_max integer := CASE p_action WHEN 'answer' THEN 2000 ELSE 500 END;
	v_unit text := pakn.api_arg(p_args, 'unit');
BEGIN
	IF p_action = 'classify' THEN
		RETURN pakn.api_classify_check(c, pakn.api_arg(p_args, 'category'));
	ELSIF pakn.api_arg(p_args, v_field) IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('%s: required, a non-empty string', v_field));
	ELSIF length(p_args->>v_field) > v_max THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('%s: at most %s characters', v_field, v_max));
	ELSIF p_action = 'transfer' AND v_unit IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'unit: required, the code of a unit');
	ELSIF p_action = 'transfer' AND NOT EXISTS (SELECT 1 FROM pakn.unit u
			WHERE u.code = v_unit) THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('unit: no unit has the code "%s"', v_unit));
	ELSIF p_action = 'transfer' AND v_unit = c.responsible_unit THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('unit: the complaint is already with %s', v_unit));
	ELSIF p_action = 'reopen' AND c.status NOT IN ('answered', 'closed',
			'rejected') THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is %s; '
			'only answered, closed or rejected ones can be reopened',
			c.ticket, c.status));
	ELSIF p_action <> 'reopen' AND c.status <> 'open' THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is %s; '
			'only open ones can be %s', c.ticket, c.status,
			CASE p_action WHEN 'answer' THEN 'answered'
				WHEN 'transfer' THEN 'transferred'
				WHEN 'reject' THEN 'rejected' ELSE 'extended' END));
	ELSIF p_action = 'extend' AND c.extended THEN
		RETURN pakn.api_error(409, 'conflict', format('the deadline of %s '
			'was extended already; it can be extended once', c.ticket));
	END IF;
	RETURN NULL;
END;
$$;

-- Do an action through the accountable pakn.complaint_* functions, the
-- official's id in the ledger (pakn.api_do of 007, with classify).
-- Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.api_do(o pakn.official, c pakn.complaint,
	p_action text, p_args jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_actor text := o.id::text;
	v_reason text := pakn.api_arg(p_args, 'reason');
BEGIN
	CASE p_action
	WHEN 'answer' THEN
		RETURN pakn.complaint_answer(c.id, v_actor,
			pakn.api_arg(p_args, 'text'), NULL);
	WHEN 'transfer' THEN
		RETURN pakn.complaint_transfer(c.id, 'official', v_actor,
			pakn.api_arg(p_args, 'unit'), v_reason);
	WHEN 'reject' THEN
		RETURN pakn.complaint_reject(c.id, v_actor, v_reason);
	WHEN 'classify' THEN
		RETURN pakn.complaint_classify(c.id, v_actor,
			pakn.api_arg(p_args, 'category'), v_reason);
	WHEN 'extend' THEN
		RETURN pakn.complaint_extend(c.id, v_actor, v_reason);
	ELSE
		PERFORM pakn.complaint_reopen(c.id, 'official', v_actor, v_reason);
		RETURN pakn.reply(c.gateway, c.msisdn, 'reopened',
			pakn.complaint_vars(c.id), c.id, NULL)
		     + pakn.notify_unit(c.responsible_unit, '{officer}',
			'new_complaint', c.id);
	END CASE;
END;
$$;

-- POST /v1/complaints/{ticket}/{action}: answer {"text"}, transfer
-- {"unit", "reason"}, reject, extend, reopen {"reason"}, classify
-- {"category", "reason"} (pakn.api_act of 007 with classify). Answers the
-- complaint as it is afterwards, with its history.
CREATE OR REPLACE FUNCTION pakn.api_act(p_token text, p_ticket text, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	c pakn.complaint;
	v_err jsonb;
	n integer;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_action IS NULL OR p_action NOT IN ('answer', 'transfer', 'reject',
			'extend', 'reopen', 'classify') THEN
		RETURN pakn.api_error(404, 'not_found', 'no such action');
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	END IF;
	c := pakn.api_find(o, p_ticket, true);
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	END IF;
	v_err := pakn.api_act_check(c, p_action, p_args);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	END IF;
	n := pakn.api_do(o, c, p_action, p_args);
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id), greatest(n, 0));
END;
$$;

-- A transfer request as the API shows it (no phone number; the text of
-- the complaint unless it is sensitive).
CREATE OR REPLACE FUNCTION pakn.api_transfer(r pakn.transfer_request) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'ticket', c.ticket,
		'state', r.state,
		'category', pakn.api_category_json(c.category_code),
		'text', CASE WHEN NOT c.sensitive THEN c.text END,
		'from_unit', pakn.api_unit(r.from_unit),
		'to_unit', pakn.api_unit(r.to_unit),
		'province', pakn.api_unit(pakn.transfer_scope(r.to_unit)),
		'reason', r.reason,
		'requested_by', (SELECT jsonb_build_object('id', o.id, 'name', o.name)
			FROM pakn.official o WHERE r.actor_id ~ '^[0-9]{1,18}$'
			  AND o.id = r.actor_id::bigint),
		'created_at', pakn.api_time(r.created_at),
		'decided_at', pakn.api_time(r.decided_at),
		'decision_reason', r.decision_reason)
	  FROM pakn.complaint c
	 WHERE c.id = r.complaint_id
$$;

-- GET /v1/transfers: the pending transfers the caller may decide
-- (incoming) and the last 50 requested from the caller's units (outgoing).
CREATE OR REPLACE FUNCTION pakn.api_transfers(p_token text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	RETURN pakn.api_reply(200, jsonb_build_object(
		'incoming', (SELECT coalesce(jsonb_agg(pakn.api_transfer(r)
				ORDER BY r.id), '[]')
			FROM pakn.transfer_request r
			WHERE r.state = 'pending'
			  AND r.to_unit IN (SELECT pakn.api_units(o))
			  AND pakn.transfer_may_decide(o, r.to_unit)),
		'outgoing', (SELECT coalesce(jsonb_agg(pakn.api_transfer(x)
				ORDER BY x.id DESC), '[]')
			FROM (SELECT * FROM pakn.transfer_request r
				WHERE r.from_unit IN (SELECT pakn.api_units(o))
				ORDER BY r.id DESC LIMIT 50) x)));
END;
$$;

-- A transfer through the API: as pakn.api_act within the caller's
-- province; else held for the receiving side (202 with the request).
CREATE OR REPLACE FUNCTION pakn.api_transfer_ask(o pakn.official, p_token text,
	p_ticket text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint := pakn.api_find(o, p_ticket, true);
	v_err jsonb;
	v_to text := pakn.api_arg(p_args, 'unit');
	t record;
BEGIN
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	END IF;
	v_err := pakn.api_act_check(c, 'transfer', p_args);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	ELSIF pakn.transfer_in_scope(o.unit_code, v_to) THEN
		RETURN pakn.api_act(p_token, p_ticket, 'transfer', p_args);
	END IF;
	SELECT * INTO t FROM pakn.transfer_request_new(c.id, o.id::text,
		o.phone, v_to, pakn.api_arg(p_args, 'reason'));
	IF (t.request).id IS NULL THEN
		RETURN pakn.api_error(409, 'conflict', format('a transfer of %s to '
			'another province already waits for acceptance', c.ticket));
	END IF;
	RETURN pakn.api_reply(202, pakn.api_complaint_full(c.id)
		|| jsonb_build_object('transfer_request',
			pakn.api_transfer(t.request)), t.sms);
END;
$$;

-- Accept or refuse a complaint's pending transfer through the API.
CREATE OR REPLACE FUNCTION pakn.api_transfer_decide(o pakn.official, p_ticket text,
	p_accept boolean, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r pakn.transfer_request;
	t record;
	v_reason text := pakn.api_arg(p_args, 'reason');
BEGIN
	SELECT q.* INTO r FROM pakn.transfer_request q
	  JOIN pakn.complaint c ON c.id = q.complaint_id
	 WHERE c.ticket = upper(p_ticket) AND q.state = 'pending' FOR UPDATE OF q;
	IF r.id IS NULL OR NOT pakn.transfer_may_decide(o, r.to_unit) THEN
		RETURN pakn.api_error(404, 'not_found',
			'no transfer of this complaint waits for your decision');
	ELSIF NOT p_accept AND v_reason IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'reason: required, a non-empty string');
	ELSIF length(coalesce(v_reason, '')) > 500 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'reason: at most 500 characters');
	END IF;
	SELECT * INTO t FROM pakn.transfer_decide(r, o.id::text, p_accept,
		v_reason);
	IF (t.request).state = 'lapsed' THEN
		RETURN pakn.api_reply(409, jsonb_build_object('error',
			jsonb_build_object('code', 'conflict', 'message',
				'the complaint is no longer open with the unit that asked; '
				'the request lapsed'),
			'transfer_request', pakn.api_transfer(t.request)), t.sms);
	END IF;
	RETURN pakn.api_reply(200, CASE WHEN p_accept
		THEN pakn.api_complaint_full(r.complaint_id) ELSE '{}' END
		|| jsonb_build_object('transfer_request',
			pakn.api_transfer(t.request)), t.sms);
END;
$$;

-- POST /v1/complaints/{ticket}/{action} (pakn.api_act_scoped of 012,
-- with the desk's send_back and forward).
CREATE OR REPLACE FUNCTION pakn.api_act_scoped(p_token text, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official;
BEGIN
	IF p_action IN ('send_back', 'forward') THEN
		RETURN pakn.api_desk_act(p_token, p_ticket, p_action, p_args);
	ELSIF p_action IS NULL OR p_action NOT IN ('transfer', 'accept_transfer',
			'refuse_transfer') THEN
		RETURN pakn.api_act(p_token, p_ticket, p_action, p_args);
	END IF;
	o := pakn.api_auth(p_token);
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	ELSIF p_action = 'transfer' THEN
		RETURN pakn.api_transfer_ask(o, p_token, p_ticket, p_args);
	END IF;
	RETURN pakn.api_transfer_decide(o, p_ticket,
		p_action = 'accept_transfer', p_args);
END;
$$;

-------------------------------------------------------------------------
-- Triage in the officials' API: GET /v1/complaints?status=triage lists
-- the open complaints that fit no category; POST .../classify
-- {"category", "reason"} files one (any open complaint, in fact) in a
-- category; a sensitive one moves to the inspection unit at once.
-------------------------------------------------------------------------

-- Why a complaint may not be classified in p_category now, or NULL.
CREATE OR REPLACE FUNCTION pakn.api_classify_check(c pakn.complaint, p_category text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE
	WHEN p_category IS NULL THEN pakn.api_error(400, 'bad_request',
		'category: required, the code of a category')
	WHEN NOT EXISTS (SELECT 1 FROM pakn.category WHERE code = p_category)
	THEN pakn.api_error(400, 'bad_request',
		format('category: unknown category "%s"', p_category))
	WHEN c.status <> 'open' THEN pakn.api_error(409, 'conflict',
		format('complaint %s is %s; only open ones can be classified',
			c.ticket, c.status))
	END
$$;

-- The reporter of a sensitive report as everyone sees them: "TC-" and 8
-- hex digits of SHA-256(secret, report): one per report, so it cannot be
-- linked to the citizen's pseudonym on other complaints nor to their
-- other reports.
CREATE OR REPLACE FUNCTION pakn.api_report_pseudonym(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT 'TC-' || upper(left(encode(sha256(convert_to(s.value
		|| ':sensitive:' || p_id, 'UTF8')), 'hex'), 8))
	  FROM pakn.setting s WHERE s.name = 'pseudonym_secret'
$$;

-------------------------------------------------------------------------
-- The officials' API: POST /v1/complaints/{ticket}/accept {"date",
-- "reason"}, /complex {"reason"}, /suspend and /resume {"reason",
-- "date"}, /apologize {"reason", "new_due"}; /extend follows the law for
-- categories that have one. Dates are YYYY-MM-DD; a decision's date
-- defaults to today and may be earlier (a decision entered later).
-------------------------------------------------------------------------

-- A date argument: NULL when absent, 'bad' when not a date.
CREATE OR REPLACE FUNCTION pakn.api_date(p_args jsonb, p_name text,
	OUT d date, OUT bad boolean)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v text := pakn.api_arg(p_args, p_name);
BEGIN
	bad := false;
	IF v IS NULL THEN
		RETURN;
	ELSIF v !~ '^\d{4}-\d{2}-\d{2}$' THEN
		bad := true;
		RETURN;
	END IF;
	BEGIN
		d := v::date;
	EXCEPTION WHEN OTHERS THEN
		bad := true;
	END;
END;
$$;

-- A clock action through the API, checked; the answer as pakn.api_act's.
CREATE OR REPLACE FUNCTION pakn.api_clock(o pakn.official, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint := pakn.api_find(o, p_ticket, true);
	v_field text := CASE p_action WHEN 'apologize' THEN 'new_due'
		ELSE 'date' END;
	v_date record := pakn.api_date(p_args, v_field);
	v_reason text := pakn.api_arg(p_args, 'reason');
	-- An apology's reason goes into the citizen's SMS: shorter.
	v_max integer := CASE WHEN p_action = 'apologize' THEN 200 ELSE 500 END;
	v_check record;
	n integer;
BEGIN
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	ELSIF v_date.bad THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('%s: a date YYYY-MM-DD', v_field));
	ELSIF length(coalesce(v_reason, '')) > v_max THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('reason: at most %s characters', v_max));
	END IF;
	v_check := pakn.clock_check(c, p_action, v_date.d, v_reason);
	IF v_check.status IS NOT NULL THEN
		RETURN pakn.api_error(v_check.status, CASE v_check.status
			WHEN 409 THEN 'conflict' ELSE 'bad_request' END, v_check.en);
	END IF;
	n := pakn.clock_do(c, o.id::text, p_action, v_date.d, v_reason, NULL);
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id), n);
END;
$$;

-- POST /v1/complaints/{ticket}/{action} (called by paknd instead of
-- pakn.api_act_scoped of 012): the clock's actions here, extend too for
-- a category with a law; every other action as before.
CREATE OR REPLACE FUNCTION pakn.api_act_clock(p_token text, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official;
	c pakn.complaint;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('accept', 'complex', 'extend',
			'suspend', 'resume', 'apologize') THEN
		RETURN pakn.api_act_scoped(p_token, p_ticket, p_action, p_args);
	END IF;
	o := pakn.api_auth(p_token);
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	END IF;
	IF p_action = 'extend' THEN
		SELECT * INTO c FROM pakn.complaint WHERE ticket = upper(p_ticket);
		IF c.id IS NULL OR (pakn.complaint_rule(c)).id IS NULL THEN
			RETURN pakn.api_act_scoped(p_token, p_ticket, p_action, p_args);
		END IF;
	END IF;
	RETURN pakn.api_clock(o, p_ticket, p_action, p_args);
END;
$$;

-- A complaint's clock as the API shows it: the law and its source, the
-- stage, the dates; the apology. NULL law for feedback.
CREATE OR REPLACE FUNCTION pakn.api_clock_json(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'law', r.law, 'rule', r.name, 'source', r.source,
		'stage', CASE WHEN r.id IS NULL THEN NULL
			WHEN c.accepted_on IS NULL THEN 'acceptance'
			ELSE 'resolution' END,
		'received_date', to_char(pakn.local_date(c.created_at), 'YYYY-MM-DD'),
		'accept_due_date', to_char(pakn.local_date(pakn.accept_due(
			c.category_code, c.created_at) - interval '1 second'),
			'YYYY-MM-DD'),
		'accepted_date', to_char(c.accepted_on, 'YYYY-MM-DD'),
		'days', CASE WHEN c.accepted_on IS NOT NULL
			THEN pakn.clock_days(c) END,
		'counted_in', CASE WHEN r.id IS NOT NULL
				AND (c.accepted_on IS NOT NULL OR NOT r.accept_working)
			THEN 'calendar days'
			WHEN r.id IS NULL AND NOT cat.working_days THEN 'calendar days'
			ELSE 'working days' END,
		'complex', c.complex, 'remote', c.remote,
		'extensions', c.extensions,
		'max_extensions', coalesce(r.max_extensions, 0),
		'suspended', c.suspended_on IS NOT NULL,
		'suspended_since', to_char(c.suspended_on, 'YYYY-MM-DD'),
		'suspended_days', c.suspended_days,
		'apology', CASE WHEN c.new_due_at IS NOT NULL THEN
			jsonb_build_object('reason', c.apology_reason,
				'new_due_date', to_char(pakn.local_date(c.new_due_at
					- interval '1 second'), 'YYYY-MM-DD'),
				'at', pakn.api_time(c.apologized_at)) END)
	  FROM pakn.category cat
	  LEFT JOIN pakn.legal_rule r ON r.id = (pakn.complaint_rule(c)).id
	 WHERE cat.code = c.category_code
$$;

-------------------------------------------------------------------------
-- The officials' API: send_back {"reason"} (a unit), forward {"place",
-- "category", "reason"} (the desk), GET /v1/desk (the desk's queue).
-------------------------------------------------------------------------

-- Why a desk action may not be done now (an error answer), or NULL.
CREATE OR REPLACE FUNCTION pakn.api_desk_check(c pakn.complaint, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_place text := pakn.api_arg(p_args, 'place');
	v_cat text := pakn.api_arg(p_args, 'category');
	v_kind text := (SELECT kind FROM pakn.unit WHERE code = v_place);
BEGIN
	IF c.status <> 'open' THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is %s; '
			'only open ones can be %s', c.ticket, c.status,
			CASE p_action WHEN 'forward' THEN 'forwarded'
				ELSE 'sent back' END));
	ELSIF length(coalesce(p_args->>'reason', '')) > 500 THEN
		RETURN pakn.api_error(400, 'bad_request',
			'reason: at most 500 characters');
	ELSIF p_action = 'send_back' AND pakn.api_arg(p_args, 'reason') IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'reason: required, a non-empty string');
	ELSIF p_action = 'send_back' AND pakn.is_desk(c.responsible_unit) THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is at '
			'the triage desk already; forward it instead', c.ticket));
	ELSIF p_action = 'send_back' THEN
		RETURN NULL;
	ELSIF NOT pakn.is_desk(c.responsible_unit) THEN
		RETURN pakn.api_error(409, 'conflict', format('complaint %s is not '
			'at a triage desk; a unit transfers it instead', c.ticket));
	ELSIF v_place IS NULL AND c.location_unit IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			'place: required, the code of the commune where it happened');
	ELSIF v_place IS NOT NULL AND v_kind IS NULL THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('place: no unit has the code "%s"', v_place));
	ELSIF v_place IS NOT NULL AND NOT pakn.commune_level(v_kind) THEN
		RETURN pakn.api_error(400, 'bad_request', format('place: %s is a '
			'%s, not a commune, ward or special zone', v_place, v_kind));
	ELSIF v_cat IS NULL AND c.triage THEN
		RETURN pakn.api_error(400, 'bad_request',
			'category: required, the complaint fits no category yet');
	ELSIF v_cat IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pakn.category
			WHERE code = v_cat) THEN
		RETURN pakn.api_error(400, 'bad_request',
			format('category: unknown category "%s"', v_cat));
	ELSIF pakn.is_desk(pakn.route(coalesce(v_cat, c.category_code),
			coalesce(v_place, c.location_unit))) THEN
		RETURN pakn.api_error(409, 'conflict',
			'routing names the triage desk itself for this place and category');
	END IF;
	RETURN NULL;
END;
$$;

-- POST /v1/complaints/{ticket}/send_back {"reason"} by the responsible
-- unit, or /forward {"place", "category", "reason"} by the desk. Answers
-- the complaint as it is afterwards, with its history.
CREATE OR REPLACE FUNCTION pakn.api_desk_act(p_token text, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	c pakn.complaint;
	v_err jsonb;
	n integer;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	ELSIF p_args IS NULL OR jsonb_typeof(p_args) <> 'object' THEN
		RETURN pakn.api_error(400, 'bad_request',
			'the body must be a JSON object');
	END IF;
	c := pakn.api_find(o, p_ticket, true);
	IF c.id IS NULL THEN
		RETURN pakn.api_not_found();
	END IF;
	v_err := pakn.api_desk_check(c, p_action, p_args);
	IF v_err IS NOT NULL THEN
		RETURN v_err;
	ELSIF p_action = 'forward' THEN
		n := pakn.complaint_forward(c.id, o.id::text,
			pakn.api_arg(p_args, 'place'), pakn.api_arg(p_args, 'category'),
			pakn.api_arg(p_args, 'reason'));
	ELSE
		n := pakn.complaint_send_back(c.id, 'official', o.id::text,
			pakn.api_arg(p_args, 'reason'));
		IF n < 0 THEN
			RETURN pakn.api_error(409, 'conflict', format('no triage desk '
				'covers complaint %s (set desk_unit on its province)',
				c.ticket));
		END IF;
	END IF;
	RETURN pakn.api_reply(200, pakn.api_complaint_full(c.id), n);
END;
$$;

-- GET /v1/desk: the triage desks the caller works for (their unit, or
-- the desks in a leader's subtree) and the open complaints waiting there,
-- oldest first (at most 100), each with why it is there. Read desk by
-- desk (complaint_unit_idx), whatever the statistics said of the open
-- complaints when the plan was made, as pakn.sms_list (v_open_state).
CREATE OR REPLACE FUNCTION pakn.api_desk(p_token text) RETURNS jsonb
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_open_state constant text := 'open';
	v_desks text[];
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	SELECT array_agg(x ORDER BY x) INTO v_desks FROM pakn.api_units(o) x
	 WHERE pakn.is_desk(x);
	RETURN pakn.api_reply(200, jsonb_build_object(
		'desks', (SELECT coalesce(jsonb_agg(pakn.api_unit(x) ORDER BY x),
			'[]') FROM unnest(v_desks) x),
		'total', (SELECT coalesce(sum(x.n), 0)
			FROM unnest(v_desks) d(code)
			CROSS JOIN LATERAL (SELECT count(*) AS n
				FROM pakn.complaint c
				WHERE c.responsible_unit = d.code
				  AND c.status = v_open_state) x),
		'complaints', (SELECT coalesce(jsonb_agg(pakn.api_complaint(c)
				|| jsonb_build_object('desk', jsonb_build_object(
					'reason', coalesce(c.desk_reason, CASE WHEN c.triage
						THEN 'no_category' END),
					'note', c.desk_note))
				ORDER BY c.created_at, c.id), '[]')
			FROM pakn.complaint c
			WHERE c.id IN (SELECT y.id FROM unnest(v_desks) d(code)
				CROSS JOIN LATERAL (SELECT w.id, w.created_at
					FROM pakn.complaint w
					WHERE w.responsible_unit = d.code
					  AND w.status = v_open_state
					ORDER BY w.created_at, w.id LIMIT 100) y
				ORDER BY y.created_at, y.id LIMIT 100))));
END;
$$;

-- POST /v1/services: a finished procedure reported by an official of the
-- one-stop shop that served it (an officer: their unit; a leader or an
-- admin: their subtree). p_msisdn is the phone normalised by paknd.
-- 201 with the record; the same file_id of the same unit again: 200
-- with the record first stored.
CREATE OR REPLACE FUNCTION pakn.api_service_new(p_token text, p_msisdn text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_unit text := p_args->>'unit';
	v_recv timestamptz := pakn.survey_time(p_args->>'received_at');
	v_ret timestamptz := pakn.survey_time(p_args->>'returned_at');
	v_file text := nullif(btrim(p_args->>'file_id'), '');
	v_why text;
	r pakn.service_record;
BEGIN
	IF o.id IS NULL THEN
		RETURN pakn.api_unauthorized();
	END IF;
	v_why := pakn.service_problem(v_unit, p_args->>'procedure_code',
		p_args->>'procedure_name', v_recv, v_ret,
		(p_args->>'on_time')::boolean, v_file);
	IF v_why IS NOT NULL THEN
		RETURN pakn.api_error(400, 'bad_request', v_why);
	ELSIF NOT pakn.official_may(o, v_unit) THEN
		RETURN pakn.api_error(403, 'forbidden', format(
			'unit %s is not yours (%s)', v_unit, o.unit_code));
	END IF;
	SELECT * INTO r FROM pakn.service_record
	 WHERE unit_code = v_unit AND file_id = v_file;
	IF r.id IS NOT NULL THEN
		RETURN pakn.api_reply(200, pakn.service_json(r)
			|| '{"duplicate": true}');
	END IF;
	INSERT INTO pakn.service_record (unit_code, procedure_code,
		procedure_name, msisdn, file_id, received_at, returned_at, on_time,
		source, official_id)
	VALUES (v_unit, btrim(p_args->>'procedure_code'),
		btrim(p_args->>'procedure_name'), p_msisdn, v_file, v_recv, v_ret,
		(p_args->>'on_time')::boolean, 'api', o.id)
	RETURNING * INTO r;
	RETURN pakn.api_reply(201, pakn.service_json(r));
END;
$$;
