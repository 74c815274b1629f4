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
