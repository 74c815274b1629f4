-- 007: the officials' HTTP API. One function per request (daemon/api.c
-- calls each in one round trip); each answers jsonb
--	{"status": HTTP status, "body": {...}, "sms": SMS queued}
-- and never raises for a client's mistake, so a refused request costs the
-- requests sharing its transaction nothing. No answer carries a phone
-- number: citizens appear as a pseudonym, or not at all in sensitive
-- categories.

-- An answer of the API.
CREATE FUNCTION pakn.api_reply(p_status integer, p_body jsonb,
	p_sms integer DEFAULT 0)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('status', p_status, 'body', p_body,
		'sms', p_sms)
$$;

-- An error answer: a stable code and a message for people.
CREATE FUNCTION pakn.api_error(p_status integer, p_code text, p_message text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.api_reply(p_status, jsonb_build_object('error',
		jsonb_build_object('code', p_code, 'message', p_message)))
$$;

-- The same answer for a ticket that does not exist and for one the
-- caller may not see, so tickets of other units cannot be probed.
CREATE FUNCTION pakn.api_not_found() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.api_error(404, 'not_found', 'no such complaint')
$$;

CREATE FUNCTION pakn.api_unauthorized() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.api_error(401, 'unauthorized',
		'invalid, revoked or expired token')
$$;

-- The official of a bearer token (NULL fields if none), noting the
-- token's use at most once a minute and never waiting for a lock.
CREATE FUNCTION pakn.api_auth(p_token text) RETURNS pakn.official
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
CREATE FUNCTION pakn.api_units(o pakn.official) RETURNS SETOF text
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
CREATE FUNCTION pakn.api_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- A unit as {code, name}, or NULL.
CREATE FUNCTION pakn.api_unit(p_code text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('code', u.code, 'name', u.name)
	  FROM pakn.unit u WHERE u.code = p_code
$$;

-- Is the complaint past its deadline (open and late, or answered late)?
CREATE FUNCTION pakn.api_overdue(c pakn.complaint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT c.overdue OR coalesce(c.status = 'open' AND now() >= c.due_at,
		false) OR coalesce(c.answered_at > c.due_at, false)
$$;

-- A citizen as officials see them: "CD-" and 8 hex digits of
-- SHA-256(secret || msisdn), the same for all of a citizen's reports;
-- NULL without a secret (a bare hash of a phone number is guessable).
CREATE FUNCTION pakn.api_pseudonym(p_msisdn text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT 'CD-' || upper(left(encode(sha256(convert_to(s.value || p_msisdn,
		'UTF8')), 'hex'), 8))
	  FROM pakn.setting s WHERE s.name = 'pseudonym_secret'
$$;

-- A complaint as the API shows it (no phone number; no pseudonym in a
-- sensitive category).
CREATE FUNCTION pakn.api_complaint(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'ticket', c.ticket, 'status', c.status,
		'category', jsonb_build_object('code', cat.code, 'name', cat.name),
		'dimension', jsonb_build_object('code', d.code, 'name', d.name_vi,
			'name_en', d.name_en),
		'location_unit', pakn.api_unit(c.location_unit),
		'responsible_unit', pakn.api_unit(c.responsible_unit),
		'text', c.text,
		'created_at', pakn.api_time(c.created_at),
		'due_at', pakn.api_time(c.due_at),
		'due_date', to_char(pakn.local_date(c.due_at - interval '1 second'),
			'YYYY-MM-DD'),
		'overdue', pakn.api_overdue(c),
		'extended', c.extended, 'reopen_count', c.reopen_count,
		'answer', c.answer_text,
		'answered_at', pakn.api_time(c.answered_at),
		'closed_at', pakn.api_time(c.closed_at),
		'close_reason', c.close_reason,
		'sensitive', c.sensitive, 'anonymous', c.sensitive,
		'citizen', CASE WHEN NOT c.sensitive
			THEN pakn.api_pseudonym(c.msisdn) END)
	  FROM pakn.category cat, pakn.papi_dimension d
	 WHERE cat.code = c.category_code AND d.code = c.dimension
$$;

-- The part of an event's detail officials may see: units, dates,
-- outcomes; the answer's text and the location too unless the complaint
-- is sensitive. Nothing else, so a phone number stored in a detail by
-- some later event never leaks.
CREATE FUNCTION pakn.api_detail(p_detail jsonb, p_sensitive boolean)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')
	  FROM jsonb_each(p_detail) e
	 WHERE e.key IN ('unit', 'from', 'to', 'parent', 'due_at', 'new_due_at',
			'on_time', 'category')
	    OR (NOT p_sensitive AND e.key IN ('text', 'location', 'score'))
$$;

-- A complaint's history from the ledger. The actor is an official's id
-- and name when an official acted through the API or a registered phone;
-- a unit phone's number is never shown.
CREATE FUNCTION pakn.api_history(c pakn.complaint) RETURNS jsonb
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
CREATE FUNCTION pakn.api_find(o pakn.official, p_ticket text,
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
CREATE FUNCTION pakn.api_complaint_full(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT pakn.api_complaint(c) || jsonb_build_object('history',
		pakn.api_history(c))
	  FROM pakn.complaint c WHERE c.id = p_id
$$;

-- Check the filters of a queue; NULL if they are fine, else an error.
CREATE FUNCTION pakn.api_list_check(p_status text[], p_category text,
	p_dimension integer, p_limit integer, p_offset integer, p_sort text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_bad text;
BEGIN
	SELECT s INTO v_bad FROM unnest(p_status) s
	 WHERE s NOT IN ('needs_location', 'open', 'answered', 'withdrawn',
		'rejected', 'closed') LIMIT 1;
	IF v_bad IS NOT NULL THEN
		RETURN pakn.api_error(400, 'bad_request', format('status: unknown '
			'status "%s" (open, answered, rejected, closed, withdrawn, '
			'needs_location)', v_bad));
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

-- GET /v1/complaints: the caller's queue. p_status is one status or a
-- comma-separated list; NULL filters match everything. Sorted by
-- deadline (most urgent first) when only open complaints are asked for
-- or p_sort is 'due', else newest first.
CREATE FUNCTION pakn.api_list(p_token text, p_status text, p_overdue boolean,
	p_category text, p_dimension integer, p_limit integer, p_offset integer,
	p_sort text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.api_auth(p_token);
	v_status text[] := string_to_array(p_status, ',');
	v_due boolean := coalesce(p_sort = 'due', v_status = '{open}');
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
		   AND (v_status IS NULL OR c.status = ANY (v_status))
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
CREATE FUNCTION pakn.api_show(p_token text, p_ticket text) RETURNS jsonb
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
CREATE FUNCTION pakn.api_arg(p_args jsonb, p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT nullif(btrim(p_args->>p_name, E' \t\r\n'), '')
	 WHERE jsonb_typeof(p_args->p_name) = 'string'
$$;

-- Why an action may not be done now (an error answer), or NULL.
CREATE FUNCTION pakn.api_act_check(c pakn.complaint, p_action text,
	p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_field text := CASE p_action WHEN 'answer' THEN 'text' ELSE 'reason' END;
	v_max integer := CASE p_action WHEN 'answer' THEN 2000 ELSE 500 END;
	v_unit text := pakn.api_arg(p_args, 'unit');
BEGIN
	IF pakn.api_arg(p_args, v_field) IS NULL THEN
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
-- official's id in the ledger. Returns the number of SMS queued.
CREATE FUNCTION pakn.api_do(o pakn.official, c pakn.complaint,
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
-- {"unit", "reason"}, reject, extend, reopen {"reason"}. Answers the
-- complaint as it is afterwards, with its history.
CREATE FUNCTION pakn.api_act(p_token text, p_ticket text, p_action text,
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
			'extend', 'reopen') THEN
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
