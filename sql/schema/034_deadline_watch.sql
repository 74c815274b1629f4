-- 034: the deadline worker's index holds the open complaints it still
-- watches (issue 12). pakn.deadline_run escalates the open complaints
-- whose due moment (coalesce(new_due_at, due_at)) has passed and was not
-- escalated yet; it found them by complaint_checkpoint_idx (016), every
-- open complaint by its due moment, from the oldest up to now, and
-- skipped those escalated for that moment. A complaint its unit never
-- answers stays open, overdue and escalated, so every pass (each
-- minute) read all of those again, more as units fall behind. The
-- index now leaves a complaint out once its due moment was escalated:
-- it comes back when the moment moves (an apology's new date, a clock
-- suspended and resumed). The reminders' scan (complaints due from now
-- to the reminder's day) uses it too: escalated_for, a moment that had
-- passed when it was set, is never a due moment still to come, so its
-- condition holds for every complaint it may remind of.

DROP INDEX pakn.complaint_checkpoint_idx;
CREATE INDEX complaint_watch_idx ON pakn.complaint
	(coalesce(new_due_at, due_at))
	WHERE status = 'open'
	  AND escalated_for IS DISTINCT FROM coalesce(new_due_at, due_at);
