-- 002: every inbound SMS, stored once per (gateway, gateway message id).
CREATE TABLE pakn.inbound_message (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	gateway        text NOT NULL,
	gateway_msg_id text NOT NULL,
	msisdn         text NOT NULL,
	shortcode      text NOT NULL,
	body           text NOT NULL,
	sent_at        timestamptz,
	received_at    timestamptz NOT NULL DEFAULT now(),
	segments       integer,
	smsc           text,
	raw_request    text NOT NULL,
	raw_body       bytea NOT NULL,
	CONSTRAINT inbound_message_gateway_msg_key UNIQUE (gateway, gateway_msg_id)
);
CREATE INDEX inbound_message_msisdn_idx
	ON pakn.inbound_message (msisdn, received_at);

COMMENT ON TABLE pakn.inbound_message IS
	'Every SMS received from a gateway, as stored before it was answered';
COMMENT ON COLUMN pakn.inbound_message.gateway IS
	'name of the [gateway.NAME] section the callback came through';
COMMENT ON COLUMN pakn.inbound_message.gateway_msg_id IS
	'the gateway''s message id, stable across retried callbacks';
COMMENT ON COLUMN pakn.inbound_message.msisdn IS 'sender, E.164';
COMMENT ON COLUMN pakn.inbound_message.shortcode IS
	'receiver: our short code or number';
COMMENT ON COLUMN pakn.inbound_message.sent_at IS
	'time reported by the gateway, if any';
COMMENT ON COLUMN pakn.inbound_message.raw_request IS
	'method, URI (secrets redacted) and headers, for audit';
