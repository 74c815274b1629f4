-- 012: honest senders and the scope of officials' actions.
--
-- Senders: paknd checks each sender against the numbering plans
-- (daemon/phone.c, phone_plan) and against our own numbers; a message from
-- one of our short codes (a loop) or from a number no subscriber can have
-- is stored with the reason in inbound_message.sender_flag, answered 2xx
-- to the gateway, and gets no reply (pakn.handle_inbound). The outbox
-- refuses such numbers too (a trigger here, and daemon/outbox.c).
--
-- Scope: an official transfers complaints within their province; a
-- transfer to a unit of another province waits in pakn.transfer_request
-- until a leader of the receiving side accepts or refuses it, each step
-- in the ledger.
--
-- Notices: a unit whose officials cannot act (none, or only an admin)
-- passes its notices to its leaders, then up the tree
-- (pakn.notice_recipients); paknctl check-routing lists such units
-- (pakn.routing_gaps).

-- Senders ---------------------------------------------------------------

ALTER TABLE pakn.inbound_message ADD COLUMN sender_flag text;
COMMENT ON COLUMN pakn.inbound_message.sender_flag IS
	'why the sender got no reply: own_number (one of our numbers: a loop), '
	'short_code, too_short, too_long, bad_country_code, not_e164, '
	'vn_doubled_prefix, vn_unallocated; NULL for a subscriber''s number';
CREATE INDEX inbound_message_flagged_idx ON pakn.inbound_message (msisdn)
	WHERE sender_flag IS NOT NULL;

-- Our own numbers: every short code or number a gateway delivered a
-- message to. A message from one of them is a loop.
CREATE TABLE pakn.own_number (
	number     text PRIMARY KEY,
	gateway    text NOT NULL,
	first_seen timestamptz NOT NULL DEFAULT now()
);

-- One inbound SMS: pakn.handle_sms, unless the sender must get no reply
-- (p_sender_flag from paknd's numbering plan and configuration, or a
-- number messages came to): then the message is only stored, flagged.
CREATE FUNCTION pakn.handle_inbound(
	p_gateway text, p_msg_id text, p_msisdn text, p_shortcode text,
	p_body text, p_sent_at timestamptz, p_segments integer, p_smsc text,
	p_raw_request text, p_raw_body bytea,
	p_kind text, p_keyword boolean, p_ticket text, p_ticket_ok boolean,
	p_unit text, p_rating integer, p_text text, p_sender_flag text,
	p_text_cut boolean,
	OUT message_id bigint, OUT duplicate boolean, OUT replies integer,
	OUT sender_flag text)
LANGUAGE plpgsql AS $$
DECLARE
	v_flag text := p_sender_flag;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = p_shortcode) THEN
		INSERT INTO pakn.own_number (number, gateway)
		VALUES (p_shortcode, p_gateway) ON CONFLICT DO NOTHING;
	END IF;
	IF v_flag IS NULL AND EXISTS (SELECT 1 FROM pakn.own_number n
			WHERE n.number = p_msisdn) THEN
		v_flag := 'own_number';
	END IF;
	IF v_flag IS NULL THEN
		SELECT h.message_id, h.duplicate, h.replies
		  INTO message_id, duplicate, replies
		  FROM pakn.handle_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
			p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
			p_raw_body, p_kind, p_keyword, p_ticket, p_ticket_ok, p_unit,
			p_rating, p_text) h;
		-- A text cut to max_sms_text (011): raw_body has it whole.
		IF p_text_cut AND NOT duplicate THEN
			UPDATE pakn.inbound_message SET text_cut = true
			 WHERE id = message_id;
		END IF;
		RETURN;
	END IF;
	SELECT i.message_id, i.duplicate INTO message_id, duplicate
	  FROM pakn.ingest_sms(p_gateway, p_msg_id, p_msisdn, p_shortcode,
		p_body, p_sent_at, p_segments, p_smsc, p_raw_request,
		p_raw_body) i;
	IF NOT duplicate THEN
		UPDATE pakn.inbound_message m SET sender_flag = v_flag,
			text_cut = p_text_cut
		 WHERE m.id = message_id;
	END IF;
	replies := 0;
	sender_flag := v_flag;
END;
$$;

-- Never queue an SMS to one of our own numbers or to a sender that was
-- flagged: the row is kept (nothing lost) but failed, with the reason.
CREATE FUNCTION pakn.outbox_refuse_flagged() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_flag text;
BEGIN
	SELECT 'own_number' INTO v_flag FROM pakn.own_number n
	 WHERE n.number = NEW.msisdn;
	IF v_flag IS NULL THEN
		SELECT m.sender_flag INTO v_flag FROM pakn.inbound_message m
		 WHERE m.msisdn = NEW.msisdn AND m.sender_flag IS NOT NULL
		 LIMIT 1;
	END IF;
	IF v_flag IS NOT NULL AND NEW.state = 'queued' THEN
		NEW.state := 'failed';
		NEW.last_error := format('refused: the number is flagged (%s)',
			v_flag);
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER outbox_refuse_flagged BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_refuse_flagged();

-- Notices ---------------------------------------------------------------

INSERT INTO pakn.template (code, body, description) VALUES
	('new_complaint_fallback', 'Phản ánh mới {ticket} ({category}) giao {unit} (đơn vị chưa có cán bộ nhận tin), hạn {due}: {text}',
		'a new complaint''s notice to leaders or the parent unit when the responsible unit has no official who can act'),
	('transfer_requested', 'Đề nghị chuyển phản ánh {ticket} ({category}) từ {from_unit} tới {to_unit}: {reason}. Đồng ý hoặc từ chối trên trang cán bộ (mục chuyển phản ánh).',
		'to the receiving province''s leaders: a transfer from another province waits for their decision'),
	('transfer_pending', 'Phản ánh {ticket}: {to_unit} ngoài tỉnh của bạn; đề nghị chuyển đã gửi lãnh đạo {province}, chờ đồng ý.',
		'to an official whose transfer outside their province waits for acceptance'),
	('transfer_accepted', 'Lãnh đạo {province} đã nhận phản ánh {ticket}; phản ánh đã chuyển tới {to_unit}.',
		'to the requesting official: the transfer was accepted'),
	('transfer_refused', 'Lãnh đạo {province} không nhận phản ánh {ticket} chuyển tới {to_unit}: {reason}. Phản ánh vẫn thuộc {from_unit}.',
		'to the requesting official: the transfer was refused');

-- Who gets a unit's notices: its active officials of the given roles and
-- the unit's own phones; when that is nobody (no official, or only an
-- admin), its leaders; when it has none either, the officials of those
-- roles and the leaders of the nearest ancestor that has any.
CREATE FUNCTION pakn.notice_recipients(p_unit text, p_roles text[])
RETURNS TABLE (r_phone text, r_unit text, r_fallback boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	a record;
BEGIN
	RETURN QUERY SELECT DISTINCT x.p, p_unit, false FROM (
		SELECT o.phone AS p FROM pakn.official o
		 WHERE o.unit_code = p_unit AND o.active AND o.role = ANY (p_roles)
		UNION
		SELECT unnest(u.phones) FROM pakn.unit u WHERE u.code = p_unit) x;
	IF FOUND THEN
		RETURN;
	END IF;
	FOR a IN SELECT an.code, an.distance FROM pakn.unit_ancestors(p_unit) an
		  ORDER BY an.distance LOOP
		RETURN QUERY SELECT DISTINCT o.phone, a.code, true
		  FROM pakn.official o
		 WHERE o.unit_code = a.code AND o.active
		   AND (o.role = 'leader'
			OR (a.distance > 0 AND o.role = ANY (p_roles)));
		IF FOUND THEN
			RETURN;
		END IF;
	END LOOP;
END;
$$;

-- Queue a template to a unit's notice recipients (pakn.notice_recipients;
-- the fallback ones get the template's _fallback variant when there is
-- one), at most once per phone, complaint and template in a transaction.
-- Returns the number queued.
CREATE OR REPLACE FUNCTION pakn.notify_unit(p_unit text, p_roles text[],
	p_template text, p_complaint bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	n integer := 0;
	r record;
	v_template text;
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
		n := n + pakn.reply(c.gateway, r.r_phone, v_template,
			pakn.complaint_vars(p_complaint), p_complaint, NULL, true);
	END LOOP;
	RETURN n;
END;
$$;

-- The units routing can reach (a rule's unit; else the location's
-- commune, or the location itself above commune level, for a category no
-- rule covers there) whose notices reach no official who can act, with
-- where they fall back to (NULL: nobody) and how many phones that is.
CREATE FUNCTION pakn.routing_gaps()
RETURNS TABLE (unit_code text, unit_name text, unit_kind text,
	fallback_unit text, fallback_phones integer)
LANGUAGE sql STABLE AS $$
	WITH reach AS (
		SELECT r.unit_code AS code FROM pakn.routing_rule r
		UNION
		SELECT coalesce((SELECT cl.ancestor FROM pakn.unit_closure cl
			  JOIN pakn.unit a ON a.code = cl.ancestor
			 WHERE cl.descendant = u.code AND a.kind = 'commune'
			 ORDER BY cl.depth LIMIT 1), u.code)
		  FROM pakn.unit u
		 WHERE EXISTS (SELECT 1 FROM pakn.category c
			WHERE NOT EXISTS (SELECT 1 FROM pakn.unit_closure cl
				JOIN pakn.routing_rule r ON r.area_code = cl.ancestor
			       WHERE cl.descendant = u.code
				 AND (r.category_code = c.code
				      OR r.category_code IS NULL))))
	SELECT u.code, u.name, u.kind, f.unit, coalesce(f.phones, 0)
	  FROM reach JOIN pakn.unit u ON u.code = reach.code
	  LEFT JOIN LATERAL (SELECT min(n.r_unit) AS unit,
			count(*)::integer AS phones, bool_or(n.r_fallback) AS fb
		  FROM pakn.notice_recipients(u.code, '{officer,leader}') n) f
		ON true
	 WHERE coalesce(f.fb, true)
	 ORDER BY u.code
$$;

-- Scope of transfers ----------------------------------------------------

-- Transfers out of the official's province, waiting for the receiving
-- side. One pending request per complaint.
CREATE TABLE pakn.transfer_request (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	complaint_id    bigint NOT NULL REFERENCES pakn.complaint (id),
	from_unit       text NOT NULL REFERENCES pakn.unit (code),
	to_unit         text NOT NULL REFERENCES pakn.unit (code),
	actor_id        text NOT NULL,
	requester_phone text,
	reason          text NOT NULL,
	state           text NOT NULL DEFAULT 'pending' CHECK (state IN
				('pending', 'accepted', 'refused', 'lapsed')),
	created_at      timestamptz NOT NULL DEFAULT now(),
	decided_at      timestamptz,
	decided_by      text,
	decision_reason text
);
CREATE UNIQUE INDEX transfer_request_pending_idx
	ON pakn.transfer_request (complaint_id) WHERE state = 'pending';
CREATE INDEX transfer_request_to_idx ON pakn.transfer_request (to_unit)
	WHERE state = 'pending';
COMMENT ON COLUMN pakn.transfer_request.actor_id IS
	'the requesting official''s id, or the unit phone that sent CT';

-- The unit whose subtree a unit's officials may transfer within: the
-- nearest province above or at it, else the root of its tree.
CREATE FUNCTION pakn.transfer_scope(p_unit text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT a.code FROM pakn.unit_ancestors(p_unit) a
		  WHERE a.kind = 'province' ORDER BY a.distance LIMIT 1),
		(SELECT a.code FROM pakn.unit_ancestors(p_unit) a
		  ORDER BY a.distance DESC LIMIT 1))
$$;

-- May an official of p_from transfer to p_to without anyone's consent?
CREATE FUNCTION pakn.transfer_in_scope(p_from text, p_to text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce(pakn.unit_in_subtree(p_to, pakn.transfer_scope(p_from)),
		false)
$$;

-- May this official accept or refuse a transfer to p_to? A leader (or an
-- admin) of the receiving side: p_to in their subtree and their scope.
CREATE FUNCTION pakn.transfer_may_decide(o pakn.official, p_to text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT o.id IS NOT NULL AND o.role IN ('leader', 'admin')
	   AND pakn.official_may(o, p_to)
	   AND pakn.transfer_in_scope(o.unit_code, p_to)
$$;

-- The variables of a transfer request for templates.
CREATE FUNCTION pakn.transfer_vars(r pakn.transfer_request,
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
CREATE FUNCTION pakn.transfer_deciders(p_to text) RETURNS SETOF text
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
CREATE FUNCTION pakn.transfer_request_new(p_id bigint, p_actor_id text,
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
CREATE FUNCTION pakn.transfer_decide(r pakn.transfer_request,
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

-- CT <ticket> <unit> <reason> from an official's phone (as in 006), the
-- transfer held for acceptance when the unit is outside the sender's
-- province.
CREATE OR REPLACE FUNCTION pakn.sms_official(p_gateway text, p_msisdn text,
	p_kind text, p_ticket text, p_ticket_ok boolean, p_unit text,
	p_text text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official := pakn.official_by_phone(p_msisdn);
	v_phone_unit text := pakn.official_unit(p_msisdn);
	c pakn.complaint;
	n integer;
	v_target text;
	t record;
BEGIN
	IF o.id IS NULL AND v_phone_unit IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'số điện thoại này chưa đăng ký là của cán bộ.', p_inbound);
	ELSIF NOT coalesce(p_ticket_ok, false) THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('mã phản ánh "%s" không đúng.', p_ticket), p_inbound);
	END IF;
	SELECT * INTO c FROM pakn.complaint WHERE ticket = p_ticket FOR UPDATE;
	IF c.id IS NULL OR NOT (coalesce(pakn.official_may(o, c.responsible_unit),
				false)
			OR coalesce(c.responsible_unit = v_phone_unit, false)) THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s không thuộc đơn vị của bạn.', p_ticket),
			p_inbound);
	ELSIF c.status <> 'open' THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s %s.', p_ticket, pakn.status_vi(c.status)),
			p_inbound);
	ELSIF p_text IS NULL OR p_text = '' THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			'thiếu nội dung.', p_inbound);
	END IF;
	IF p_kind = 'answer' THEN
		n := pakn.complaint_answer(c.id, coalesce(o.id::text, p_msisdn),
			p_text, p_inbound);
		RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_done',
			pakn.complaint_vars(c.id), c.id, p_inbound);
	END IF;
	-- The grammar folds the code to lower case; codes may have letters.
	SELECT code INTO v_target FROM pakn.unit
	 WHERE lower(code) = lower(p_unit) ORDER BY code = p_unit DESC LIMIT 1;
	IF v_target IS NULL THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('không có đơn vị mã "%s".', coalesce(p_unit, '')),
			p_inbound);
	ELSIF v_target = c.responsible_unit THEN
		RETURN pakn.official_refuse(p_gateway, p_msisdn,
			format('phản ánh %s đã thuộc đơn vị %s.', p_ticket, v_target),
			p_inbound);
	ELSIF NOT pakn.transfer_in_scope(coalesce(o.unit_code, v_phone_unit),
			v_target) THEN
		SELECT * INTO t FROM pakn.transfer_request_new(c.id,
			coalesce(o.id::text, p_msisdn), p_msisdn, v_target, p_text);
		IF (t.request).id IS NULL THEN
			RETURN pakn.official_refuse(p_gateway, p_msisdn,
				format('phản ánh %s đang chờ đơn vị khác nhận.', p_ticket),
				p_inbound);
		END IF;
		RETURN t.sms + pakn.reply(p_gateway, p_msisdn, 'transfer_pending',
			pakn.transfer_vars(t.request), c.id, p_inbound);
	END IF;
	n := pakn.complaint_transfer(c.id, 'official',
		coalesce(o.id::text, p_msisdn), v_target, p_text);
	RETURN n + pakn.reply(p_gateway, p_msisdn, 'official_transferred',
		pakn.complaint_vars(c.id), c.id, p_inbound);
END;
$$;

-- A transfer request as the API shows it (no phone number; the text of
-- the complaint unless it is sensitive).
CREATE FUNCTION pakn.api_transfer(r pakn.transfer_request) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'ticket', c.ticket,
		'state', r.state,
		'category', jsonb_build_object('code', cat.code, 'name', cat.name),
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
	  FROM pakn.complaint c JOIN pakn.category cat ON cat.code = c.category_code
	 WHERE c.id = r.complaint_id
$$;

-- GET /v1/transfers: the pending transfers the caller may decide
-- (incoming) and the last 50 requested from the caller's units (outgoing).
CREATE FUNCTION pakn.api_transfers(p_token text) RETURNS jsonb
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
CREATE FUNCTION pakn.api_transfer_ask(o pakn.official, p_token text,
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
CREATE FUNCTION pakn.api_transfer_decide(o pakn.official, p_ticket text,
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

-- POST /v1/complaints/{ticket}/{action}: pakn.api_act, with transfers
-- limited to the caller's province and the receiving side's
-- accept_transfer / refuse_transfer {"reason"}.
CREATE FUNCTION pakn.api_act_scoped(p_token text, p_ticket text,
	p_action text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o pakn.official;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('transfer', 'accept_transfer',
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
