-- functions/open311.sql: the Open311 GeoReport v2 endpoint
-- (daemon/open311.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- An Open311 answer: an HTTP status and a body (an array).
CREATE OR REPLACE FUNCTION pakn.open311_reply(p_status integer, p_body jsonb,
	p_sms integer DEFAULT 0)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('status', p_status, 'body', p_body,
		'sms', p_sms)
$$;

-- An error as the spec writes it: [{"code": status, "description": ...}].
CREATE OR REPLACE FUNCTION pakn.open311_error(p_status integer, p_description text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT pakn.open311_reply(p_status, jsonb_build_array(jsonb_build_object(
		'code', p_status, 'description', p_description)))
$$;

-- A moment in W3C format with the local offset.
CREATE OR REPLACE FUNCTION pakn.open311_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'Asia/Ho_Chi_Minh',
		'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')
$$;

-- A category as an Open311 service; its PAPI dimension is the group.
CREATE OR REPLACE FUNCTION pakn.open311_service_json(c pakn.category) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('service_code', c.code,
		'service_name', c.name,
		'description', format('%s (PAPI %s: %s)', c.name, d.code, d.name_vi),
		'metadata', false, 'type', 'realtime',
		'keywords', array_to_string(c.keywords[1:12], ','),
		'group', d.name_vi)
	  FROM pakn.papi_dimension d WHERE d.code = c.dimension
$$;

-- A complaint as a public Open311 request: no phone, no pseudonym; a
-- sensitive one without its text, answer or place.
CREATE OR REPLACE FUNCTION pakn.open311_request_json(c pakn.complaint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'service_request_id', c.ticket,
		'status', CASE WHEN c.status IN ('needs_location', 'open')
			THEN 'open' ELSE 'closed' END,
		'status_notes', CASE WHEN NOT c.sensitive THEN coalesce(c.answer_text,
			(SELECT e.reason FROM pakn.complaint_event e
			  WHERE e.complaint_id = c.id AND e.event IN ('rejected',
				'withdrawn') ORDER BY e.id DESC LIMIT 1)) END,
		'service_name', cat.name, 'service_code', cat.code,
		'description', CASE WHEN NOT c.sensitive THEN c.text END,
		'agency_responsible', ru.name,
		'service_notice', NULL,
		'requested_datetime', pakn.open311_time(c.created_at),
		'updated_datetime', pakn.open311_time((SELECT max(e.at)
			FROM pakn.complaint_event e WHERE e.complaint_id = c.id)),
		'expected_datetime', pakn.open311_time(c.due_at),
		'address', CASE WHEN NOT c.sensitive THEN lu.name END,
		'address_id', CASE WHEN NOT c.sensitive THEN lu.code END,
		'zipcode', NULL, 'lat', NULL, 'long', NULL, 'media_url', NULL)
	  FROM pakn.category cat
	  LEFT JOIN pakn.unit ru ON ru.code = c.responsible_unit
	  LEFT JOIN pakn.unit lu ON lu.code = c.location_unit
	 WHERE cat.code = c.category_code
$$;

-- A W3C datetime of a filter, or NULL (p_bad set) when malformed.
CREATE OR REPLACE FUNCTION pakn.open311_date(p text, OUT t timestamptz, OUT bad boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	bad := false;
	IF p IS NULL THEN
		RETURN;
	END IF;
	t := pakn.survey_time(p);
	bad := t IS NULL;
END;
$$;

-- GET requests.json: filters service_request_id, service_code (lists),
-- status (open, closed), start_date, end_date (default: the last 90
-- days); at most 1000, newest first.
CREATE OR REPLACE FUNCTION pakn.open311_requests(p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_ids text[] := string_to_array(upper(p_args->>'service_request_id'), ',');
	v_codes text[] := string_to_array(p_args->>'service_code', ',');
	v_status text[] := string_to_array(lower(p_args->>'status'), ',');
	a record;
	b record;
	v_body jsonb;
BEGIN
	a := pakn.open311_date(p_args->>'start_date');
	b := pakn.open311_date(p_args->>'end_date');
	IF a.bad OR b.bad THEN
		RETURN pakn.open311_error(400, 'start_date and end_date: W3C '
			'datetimes, e.g. 2026-12-01T00:00:00+07:00');
	ELSIF EXISTS (SELECT 1 FROM unnest(v_status) x
			WHERE x NOT IN ('open', 'closed')) THEN
		RETURN pakn.open311_error(400, 'status: open or closed');
	ELSIF EXISTS (SELECT 1 FROM unnest(v_codes) x WHERE NOT EXISTS (
			SELECT 1 FROM pakn.category c WHERE c.code = x)) THEN
		RETURN pakn.open311_error(400, 'service_code: unknown service');
	END IF;
	SELECT coalesce(jsonb_agg(pakn.open311_request_json(c)
		ORDER BY c.created_at DESC, c.id DESC), '[]') INTO v_body
	  FROM (SELECT * FROM pakn.complaint c
		 WHERE (v_ids IS NULL OR c.ticket = ANY (v_ids))
		   AND (v_codes IS NULL OR c.category_code = ANY (v_codes))
		   AND (v_status IS NULL OR CASE WHEN c.status IN ('needs_location',
			'open') THEN 'open' ELSE 'closed' END = ANY (v_status))
		   AND c.created_at >= coalesce(a.t, coalesce(b.t, now())
			- interval '90 days')
		   AND (b.t IS NULL OR c.created_at <= b.t)
		 ORDER BY c.created_at DESC, c.id DESC LIMIT 1000) c;
	RETURN pakn.open311_reply(200, v_body);
END;
$$;

-- The unit an address names: address_id a unit code; address_string a
-- unit code, or a unit's name (folded, exact, else the only one that
-- contains it).
CREATE OR REPLACE FUNCTION pakn.open311_place(p_id text, p_string text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT u.code FROM pakn.unit u WHERE u.code = btrim(p_id)),
		(SELECT u.code FROM pakn.unit u WHERE u.code = btrim(p_string)),
		(SELECT min(u.code) FROM pakn.unit u
		  WHERE pakn.fold(u.name) = btrim(pakn.fold(p_string))
		 HAVING count(*) = 1),
		(SELECT min(u.code) FROM pakn.unit u
		  WHERE length(btrim(p_string)) >= 3
		    AND strpos(pakn.fold(u.name), btrim(pakn.fold(p_string))) > 0
		 HAVING count(*) = 1))
$$;

-- POST requests.json by a registered client: a complaint in the
-- service's category at the addressed unit, acked by SMS to the
-- reporter's phone when one is given (p_msisdn, normalised by paknd).
CREATE OR REPLACE FUNCTION pakn.open311_post(p_key text, p_gateway text,
	p_msisdn text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	cl pakn.open311_client;
	v_code text := p_args->>'service_code';
	v_text text := btrim(coalesce(p_args->>'description', ''));
	v_place text := pakn.open311_place(p_args->>'address_id',
		p_args->>'address_string');
	v_token text := replace(gen_random_uuid()::text, '-', '');
	v_msisdn text := p_msisdn;
	f record;
	c pakn.complaint;
BEGIN
	SELECT * INTO cl FROM pakn.open311_client
	 WHERE key_hash = sha256(convert_to(coalesce(p_key, ''), 'UTF8'))
	   AND revoked_at IS NULL;
	IF cl.id IS NULL THEN
		RETURN pakn.open311_error(403, 'Invalid api_key received -- '
			'can''t proceed with create_request.');
	ELSIF v_code IS NULL OR NOT EXISTS (SELECT 1 FROM pakn.category
			WHERE code = v_code) THEN
		RETURN pakn.open311_error(400, format('service_code "%s" not found',
			coalesce(v_code, '')));
	ELSIF v_text = '' OR length(v_text) > 4000 THEN
		RETURN pakn.open311_error(400, 'description: 1 to 4000 characters');
	ELSIF v_place IS NULL AND coalesce(p_args->>'address_id',
			p_args->>'address_string') IS NULL THEN
		RETURN pakn.open311_error(400, 'a location is required: '
			'address_string (a commune''s name or code) or address_id (a unit '
			'code); lat and long alone are not supported');
	ELSIF v_place IS NULL THEN
		RETURN pakn.open311_error(400, format('no single unit named "%s": '
			'give a commune code as address_id', coalesce(
			p_args->>'address_id', p_args->>'address_string')));
	END IF;
	IF v_msisdn IS NULL THEN
		v_msisdn := format('open311:%s:%s', cl.id, v_token);
	END IF;
	f := pakn.complaint_file(p_gateway, v_msisdn, v_code, v_text, v_place,
		'ack', jsonb_build_object('channel', 'open311', 'client', cl.name));
	INSERT INTO pakn.open311_request (complaint_id, client_id, token)
	VALUES (f.new_id, cl.id, v_token);
	SELECT * INTO c FROM pakn.complaint WHERE id = f.new_id;
	RETURN pakn.open311_reply(200, jsonb_build_array(jsonb_build_object(
		'service_request_id', c.ticket, 'token', v_token,
		'service_notice', format('Đơn vị xử lý: %s. Hạn trả lời: %s.',
			(SELECT name FROM pakn.unit WHERE code = c.responsible_unit),
			pakn.due_vi(c.due_at)),
		'account_id', NULL)), f.queued);
END;
$$;

-- Every Open311 endpoint: p_op is services, service, requests, request,
-- post or token; p_args the path's code, id or token and the parameters.
CREATE OR REPLACE FUNCTION pakn.open311(p_op text, p_key text, p_gateway text,
	p_msisdn text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_cat pakn.category;
	v jsonb;
BEGIN
	CASE p_op
	WHEN 'services' THEN
		RETURN pakn.open311_reply(200, (SELECT coalesce(jsonb_agg(
			pakn.open311_service_json(c) ORDER BY c.dimension, c.code), '[]')
			FROM pakn.category c));
	WHEN 'service' THEN
		SELECT * INTO v_cat FROM pakn.category WHERE code = p_args->>'code';
		IF v_cat.code IS NULL THEN
			RETURN pakn.open311_error(404, format('service_code "%s" not found',
				p_args->>'code'));
		END IF;
		RETURN pakn.open311_reply(200, jsonb_build_object('service_code',
			v_cat.code, 'attributes', '[]'::jsonb));
	WHEN 'requests' THEN
		RETURN pakn.open311_requests(p_args);
	WHEN 'request' THEN
		SELECT jsonb_build_array(pakn.open311_request_json(x)) INTO v
		  FROM pakn.complaint x WHERE x.ticket = upper(p_args->>'id');
		IF v IS NULL THEN
			RETURN pakn.open311_error(404, format(
				'service_request_id "%s" not found', p_args->>'id'));
		END IF;
		RETURN pakn.open311_reply(200, v);
	WHEN 'token' THEN
		SELECT jsonb_build_array(jsonb_build_object('service_request_id',
			x.ticket, 'token', r.token)) INTO v
		  FROM pakn.open311_request r JOIN pakn.complaint x
			ON x.id = r.complaint_id
		 WHERE r.token = p_args->>'token';
		IF v IS NULL THEN
			RETURN pakn.open311_error(404, format('token "%s" not found',
				p_args->>'token'));
		END IF;
		RETURN pakn.open311_reply(200, v);
	WHEN 'post' THEN
		RETURN pakn.open311_post(p_key, p_gateway, p_msisdn, p_args);
	ELSE
		RETURN pakn.open311_error(404, 'no such endpoint');
	END CASE;
END;
$$;
