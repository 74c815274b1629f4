-- 037: the outbox's reference index holds the messages the gateway named
-- (issue 12). A delivery report by the gateway's reference (Twilio's
-- MessageSid, Africa's Talking's id; pakn.outbox_dlr_between) looks it
-- up among messages sent; every message queued or in flight had an entry
-- (gateway, NULL) there, written again by each claim and outcome, all at
-- one place of the index that every processing batch and every claim
-- wrote to. Two of the three entries a message wrote there are gone; a
-- lookup by reference (an equality, so never NULL) uses the index as
-- before: check_outbox's test_dlr_by_ref_indexed.
CREATE INDEX outbox_ref_sent_idx ON pakn.outbox (gateway, gateway_ref)
	WHERE gateway_ref IS NOT NULL;
DROP INDEX pakn.outbox_ref_idx;
