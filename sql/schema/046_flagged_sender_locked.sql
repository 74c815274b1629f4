-- 046: a number flagged while pakn.flagged_sender_prune runs stays
-- listed. The prune deletes the numbers no flagged message names any
-- more; a message flagged meanwhile (not committed, so not seen by the
-- prune's snapshot) found its number listed and added nothing (ON
-- CONFLICT DO NOTHING takes no lock), and the prune deleted the row:
-- SMS to that number were no longer refused (044's note). Now the
-- message's trigger locks its number's row (a DO UPDATE whose WHERE
-- holds for no row locks the row and changes nothing), and the prune
-- locks the rows it would delete first, then tests again in a statement
-- of its own: it waits for such a message to commit and then sees it.
-- (The prune first: the trigger waits, finds the row gone and lists the
-- number anew.)
CREATE OR REPLACE FUNCTION pakn.flagged_sender_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pakn.flagged_sender AS f (msisdn, sender_flag)
	VALUES (NEW.msisdn, NEW.sender_flag)
	ON CONFLICT (msisdn) DO UPDATE SET sender_flag = f.sender_flag
	 WHERE false;
	RETURN NULL;
END;
$$;
