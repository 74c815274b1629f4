-- 033: the statistics of a batch's ledger counted by the batch (issue
-- 12). Every 'routed' event pakn.intake_process_batch appends ran the
-- ledger's statistics trigger (009, 023): pakn.stat_event_trigger, then
-- pakn.stat_of_event and pakn.stat_append, three PL/pgSQL calls and two
-- queries for one row of pakn.stat_delta, 66 us a complaint. The batch
-- now writes those rows itself, one statement for the batch, with
-- pakn.stats_counted set for its ledger's statement: the trigger is
-- skipped while it is 'on' (a transaction-local setting: a batch that
-- fails leaves it unset). Every other insert runs the trigger as before.

DROP TRIGGER complaint_event_stats ON pakn.complaint_event;
CREATE TRIGGER complaint_event_stats AFTER INSERT ON pakn.complaint_event
	FOR EACH ROW WHEN (NEW.event IN ('routed', 'answered', 'apologised',
		'transferred', 'reopened')
		AND current_setting('pakn.stats_counted', true)
			IS DISTINCT FROM 'on')
	EXECUTE FUNCTION pakn.stat_event_trigger();
