-- 008: USSD menus (daemon/ussd.c). A session's state lives here, so any
-- paknd instance can answer any step; each step is two calls:
-- pakn.ussd_load (the answer of a replayed step, or the state and what
-- the menus need to know) and pakn.ussd_save (the new state and answer,
-- and the action, done once). Sessions matter for seconds: the table is
-- UNLOGGED (a crash ends the sessions in progress, nothing else), and
-- steps remove expired sessions as they go.

-- Services of a commune that citizens rate without a complaint.
CREATE TABLE pakn.public_service (
	code      text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
	name      text NOT NULL CHECK (name <> ''),
	dimension smallint NOT NULL REFERENCES pakn.papi_dimension (code),
	position  integer NOT NULL DEFAULT 0
);
INSERT INTO pakn.public_service (code, name, dimension, position) VALUES
	('one_stop', 'Bộ phận một cửa', 5, 1),
	('health_station', 'Trạm y tế', 6, 2),
	('school', 'Trường học', 6, 3),
	('security', 'An ninh trật tự', 6, 4),
	('infrastructure', 'Đường, điện, nước', 6, 5),
	('waste', 'Thu gom rác', 7, 6),
	('online_service', 'Dịch vụ công trực tuyến', 8, 7);

-- A rating without a complaint names the service it is about.
ALTER TABLE pakn.rating
	ADD COLUMN service text REFERENCES pakn.public_service (code);

CREATE UNLOGGED TABLE pakn.ussd_session (
	gateway      text NOT NULL,
	session_id   text NOT NULL,
	msisdn       text NOT NULL,
	service_code text,
	step         integer NOT NULL,
	last_text    text NOT NULL,
	state        jsonb NOT NULL,
	answers      jsonb NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (gateway, session_id)
);
CREATE INDEX ussd_session_idle_idx ON pakn.ussd_session (updated_at);
COMMENT ON COLUMN pakn.ussd_session.answers IS
	'the answer given to each text of the session, for replayed steps';
