-- 020: SMS surveys after a public service, and Open311 GeoReport v2.
--
-- Surveys. A one-stop shop (Bộ phận Một cửa) reports each finished
-- procedure (POST /v1/services, daemon/service.c; or paknctl
-- import-services): pakn.service_record, with the citizen's phone as
-- personal data. The survey worker (daemon/survey.c, one paknd at a time
-- under an advisory lock) calls pakn.survey_run: it samples new records
-- (a share per unit, at most one survey per phone per N days, never to a
-- phone that sent STOP), sends due surveys by SMS outside the quiet hours
-- (21:00-07:00 Asia/Ho_Chi_Minh by default: a survey due at night waits
-- for the morning), reminds once and expires unanswered ones. Replies are
-- read by the grammar (daemon/grammar.c, kind 'survey': a digit 1-5 and
-- up to two C/K letters) and by pakn.sms_survey; a "yes, asked for money"
-- opens a sensitive report routed like any corruption report.
--
-- Open311: registered clients (pakn.open311_client, only a SHA-256 of
-- each api_key) file complaints; every endpoint is one call of
-- pakn.open311 (daemon/open311.c), answering {status, body, sms}.

-------------------------------------------------------------------------
-- Services and surveys
-------------------------------------------------------------------------

-- Finished procedures reported by one-stop shops. msisdn is personal
-- data: no answer of any API shows it, and the survey worker erases it
-- ([survey] keep_phone_days after the return, once no survey waits).
CREATE TABLE pakn.service_record (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	unit_code      text NOT NULL REFERENCES pakn.unit (code),
	procedure_code text NOT NULL CHECK (procedure_code <> ''
				AND length(procedure_code) <= 64),
	procedure_name text NOT NULL CHECK (procedure_name <> ''
				AND length(procedure_name) <= 300),
	msisdn         text NOT NULL,
	file_id        text CHECK (length(file_id) <= 64),
	received_at    timestamptz NOT NULL,
	returned_at    timestamptz NOT NULL CHECK (returned_at >= received_at),
	on_time        boolean NOT NULL,
	source         text NOT NULL CHECK (source IN ('api', 'csv')),
	official_id    bigint REFERENCES pakn.official (id),
	created_at     timestamptz NOT NULL DEFAULT now(),
	considered     boolean NOT NULL DEFAULT false,
	skip_reason    text CHECK (skip_reason IN ('not_sampled', 'opted_out',
				'recent', 'stale'))
);
-- The same file reported twice (the shop's software retries) is one record.
CREATE UNIQUE INDEX service_record_file_idx ON pakn.service_record
	(unit_code, file_id) WHERE file_id IS NOT NULL;
CREATE INDEX service_record_new_idx ON pakn.service_record (id)
	WHERE NOT considered;
CREATE INDEX service_record_unit_idx ON pakn.service_record
	(unit_code, returned_at);
COMMENT ON COLUMN pakn.service_record.msisdn IS
	'personal data: the citizen served, surveyed by SMS; never shown';

-- The share of a unit's services that are surveyed, when it is not the
-- configured one ([survey] sample_percent).
CREATE TABLE pakn.survey_unit (
	unit_code text PRIMARY KEY REFERENCES pakn.unit (code),
	percent   numeric NOT NULL CHECK (percent BETWEEN 0 AND 100)
);

-- One survey per sampled service. Times are the worker's clock
-- (survey_now); asked_at is the real moment of the last question, to
-- tell a reply to it from a reply to a complaint's rating question.
CREATE TABLE pakn.survey (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service_id   bigint NOT NULL UNIQUE REFERENCES pakn.service_record (id),
	msisdn       text NOT NULL,
	gateway      text,
	state        text NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'sent',
				'answered', 'expired', 'cancelled')),
	due_at       timestamptz NOT NULL,
	created_at   timestamptz NOT NULL,
	sent_at      timestamptz,
	reminded_at  timestamptz,
	answered_at  timestamptz,
	completed_at timestamptz,
	closed_at    timestamptz,
	asked_at     timestamptz,
	cancel_reason text,
	satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
	on_time      boolean,
	money_asked  boolean,
	complaint_id bigint REFERENCES pakn.complaint (id)
);
CREATE INDEX survey_due_idx ON pakn.survey (due_at) WHERE state = 'due';
CREATE INDEX survey_sent_idx ON pakn.survey (sent_at) WHERE state = 'sent';
CREATE INDEX survey_msisdn_idx ON pakn.survey (msisdn, created_at);

-- The worker's last pass (one row), for operators and tests.
CREATE TABLE pakn.survey_pass (
	id        integer PRIMARY KEY CHECK (id = 1),
	at        timestamptz NOT NULL,
	clock     timestamptz NOT NULL,
	quiet     boolean NOT NULL,
	considered integer NOT NULL,
	sent      integer NOT NULL,
	reminded  integer NOT NULL,
	expired   integer NOT NULL
);

INSERT INTO pakn.template (code, body, description) VALUES
	('survey', 'Khảo sát {unit}, hồ sơ {procedure}. Nhắn: hài lòng 1-5, đúng hẹn C/K, bị đòi tiền ngoài phí C/K. VD: 5 C K',
		'a survey after a public service (fits one GSM-7 SMS folded)'),
	('survey_reminder', 'Nhắc: khảo sát hồ sơ {procedure}. Nhắn: hài lòng 1-5, đúng hẹn C/K, bị đòi tiền ngoài phí C/K. VD: 4 C K',
		'the one reminder of an unanswered survey'),
	('survey_thanks', 'Cảm ơn bạn đã trả lời khảo sát hồ sơ {procedure}.',
		'a survey fully answered'),
	('survey_partial', 'Đã ghi nhận. Còn thiếu: {missing}. Nhắn tiếp, VD: {example}',
		'a survey partly answered: what is missing'),
	('survey_closed', 'Khảo sát về hồ sơ {procedure} đã kết thúc. Cảm ơn bạn.',
		'a reply to a survey that expired'),
	('survey_money', 'Cảm ơn bạn. Việc bị đòi tiền ngoài phí đã được ghi thành phản ánh {ticket}, chuyển tới {unit}, không chuyển nơi làm hồ sơ. Danh tính bạn được giữ kín. Tra cứu: TT {ticket}',
		'a survey answer "asked for money" opened a sensitive report');

-------------------------------------------------------------------------
-- Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2)
-------------------------------------------------------------------------

-- Applications allowed to POST requests; only a SHA-256 of each key.
CREATE TABLE pakn.open311_client (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name <> ''),
	key_hash   bytea NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);

-- The requests clients filed: the token of each (tokens/{token}.json).
CREATE TABLE pakn.open311_request (
	complaint_id bigint PRIMARY KEY REFERENCES pakn.complaint (id),
	client_id    bigint NOT NULL REFERENCES pakn.open311_client (id),
	token        text NOT NULL UNIQUE,
	created_at   timestamptz NOT NULL DEFAULT now()
);

-- A reporter who gave no phone is "open311:<client>:<token>": no SMS is
-- ever queued to such a citizen.
CREATE FUNCTION pakn.outbox_skip_nophone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.msisdn LIKE 'open311:%' THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER outbox_skip_nophone BEFORE INSERT ON pakn.outbox
	FOR EACH ROW EXECUTE FUNCTION pakn.outbox_skip_nophone();
