-- 019: operations. The gauges GET /metrics reads from the database (no
-- personal data: counts and ages per gateway), and each gateway's send
-- rate shared by every paknd on the database, and the retention of
-- personal data (paknctl purge).

-- Sends granted per gateway and second, across every paknd on this
-- database: [gateway] rate is the gateway's, not each instance's. A row
-- lives ten minutes (kept for a look at what was granted).
CREATE TABLE pakn.send_rate (
	gateway text NOT NULL,
	second  timestamptz NOT NULL,
	granted integer NOT NULL DEFAULT 0 CHECK (granted >= 0),
	PRIMARY KEY (gateway, second)
);

-- Retention of personal data (paknctl purge --before DATE). Vietnam's
-- Decree 13/2023/ND-CP on personal data protection (art. 16: personal
-- data is deleted when its purpose is fulfilled) and the Law on
-- Personal Data Protection 91/2025/QH15 (in force 1 January 2026) ask
-- that data be kept no longer than its purpose needs. A complaint
-- closed, withdrawn or rejected before the date keeps its ticket, unit,
-- category, dates and ledger (statistics are computed from those and
-- stay as they are) but loses the citizen's number (replaced by the
-- pseudonym officials saw), its text and the answer's text; so do the
-- messages, ratings and replies that belong to it, and the messages of
-- that date of citizens with nothing open. A citizen row left with no
-- complaint, no message and no opt-out goes; an opt-out stays (it must
-- keep being honoured).
ALTER TABLE pakn.complaint ADD COLUMN purged_at timestamptz;
COMMENT ON COLUMN pakn.complaint.purged_at IS
	'personal data removed by pakn.purge_personal (paknctl purge)';
