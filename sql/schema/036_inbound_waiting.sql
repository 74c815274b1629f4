-- 036: the processing claim's index holds the messages waiting, not those
-- being processed (issue 12), as 035 did for the outbox. A message
-- claimed stays 'new' (with its lease) until it is processed, and stayed
-- in inbound_message_new_idx (025) at its place: each claim
-- (pakn.intake_claim, two scans of that index) read every message in
-- flight and fetched its row to find its lease not run out. In a drain,
-- 2 600 entries read and 2 370 rows fetched a scan, 35 rows a message
-- claimed. inbound_message_waiting_idx holds the messages no worker
-- holds; inbound_message_lease_idx those held, by when their lease runs
-- out (the claim reads the ones that ran out first). A message leased
-- was claimed (attempts > 0): said in the index's predicate, which the
-- claim's test for a phone's message in flight (a lease not run out, by
-- the phone's number: 030's index) does not imply, or a plan made while
-- the table was small could read every message in flight by this one for
-- each candidate (tried: 4 500 entries for a claim of 8).
CREATE INDEX inbound_message_waiting_idx ON pakn.inbound_message (id)
	WHERE state = 'new' AND lease_until IS NULL;
CREATE INDEX inbound_message_lease_idx ON pakn.inbound_message (lease_until)
	WHERE state = 'new' AND lease_until IS NOT NULL AND attempts > 0;
DROP INDEX pakn.inbound_message_new_idx;
