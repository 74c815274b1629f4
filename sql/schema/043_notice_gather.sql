-- 043: an official's phone gets at most one new-complaint SMS every
-- [sms] notice_gather seconds (issue 12). 039 lists the new complaints
-- of one processing group in one SMS; a group holds a tenth of a second
-- of a steady load, so at 2 000 complaints a second spread over the
-- country's 3 321 communes each official still got an SMS every few
-- seconds, all day, each one paid for. Now a notice of a new complaint
-- to a phone that got one less than notice_gather seconds ago (or that
-- has notices held already) waits here; when that time is over, paknd
-- (pakn.notice_flush) sends the phone's held notices as one SMS: the
-- notice itself when there is one (new_complaint), else the list
-- (new_complaints, 039). A unit with a complaint an hour gets each one
-- at once, as before.
--
-- A row holds the notices to one phone of one processing group, already
-- listed (a complaint processed alone, one): a bench group of 256
-- complaints has ~350 notices for a few dozen phones, and a row a notice
-- cost more than the SMS of 039 it replaced.
CREATE TABLE pakn.notice_held (
	msisdn       text NOT NULL,
	-- the first complaint of the row (the others are in tickets)
	complaint_id bigint NOT NULL REFERENCES pakn.complaint (id),
	gateway      text NOT NULL,
	kind         text NOT NULL CONSTRAINT notice_held_kind_check
			CHECK (kind IN ('new_complaint', 'new_complaint_fallback')),
	complaints   integer NOT NULL CONSTRAINT notice_held_complaints_check
			CHECK (complaints > 0),
	tickets      text[] NOT NULL,  -- the first eight, by complaint
	units        text[] NOT NULL,  -- their units' names
	due_at       timestamptz,      -- the earliest due date
	held_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (msisdn, complaint_id)
);
COMMENT ON TABLE pakn.notice_held IS
	'Notices of new complaints to an official''s phone held for one SMS at the end of [sms] notice_gather (pakn.notice_flush)';

