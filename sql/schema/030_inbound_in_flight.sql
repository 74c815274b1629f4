-- 030: the messages in flight found by their own index (issue 12). A
-- claim (pakn.intake_claim) takes a phone's message only when no earlier
-- message of that phone is leased to a worker; it asked that of every
-- message waiting, and with a backlog (38 000 waiting messages, a few
-- hundred of them leased) the planner, which counts few leased ones,
-- read all the waiting ones for each claim: 12-15 ms a claim of 256.
-- Leased messages are 'new' with a lease (the worker clears it when it
-- marks them done or failed): this index holds only those.
CREATE INDEX inbound_message_in_flight_idx ON pakn.inbound_message
	(msisdn, id) WHERE state = 'new' AND lease_until IS NOT NULL;
