-- 042: messages an operator put back for processing (paknctl retry,
-- issue 12: a message whose processing fails is marked failed with the
-- reason and never retried by itself). One row a retry: the message,
-- what it had failed with and after how many claims, who and when. The
-- message is then 'new' again, its error and claims cleared, and is
-- processed like any stored message (pakn.intake_retry).
CREATE TABLE pakn.inbound_retry (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id bigint NOT NULL REFERENCES pakn.inbound_key (id),
	error      text,
	attempts   integer NOT NULL,
	actor      text NOT NULL CHECK (actor <> ''),
	at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_retry_message_idx ON pakn.inbound_retry (message_id, id);
