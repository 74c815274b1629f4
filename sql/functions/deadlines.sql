-- functions/deadlines.sql: the clocks: working days, legal deadlines
-- (pakn.legal_rule names the law of each), reminders and escalation
-- (daemon/deadline.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- Is this date a working day in Vietnam?
CREATE OR REPLACE FUNCTION pakn.is_working_day(d date) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN coalesce((SELECT h.kind = 'workday' FROM pakn.holiday h
			  WHERE h.day = d),
		extract(isodow FROM d) < 6);
END;
$$;

-- The date n working days after d (day 1 is the next working day).
-- Beyond a few days, one query over the days ahead (as
-- pakn.is_working_day decides each), not a call of it per day: a
-- complaint's due date is n = 10 to 45 days out. Within 2n + 60 days
-- there are always n working days (the longest run of days off, Tết and
-- a weekend, is under 10 days).
CREATE OR REPLACE FUNCTION pakn.add_working_days(d date, n integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r date := d;
	left_ integer := n;
BEGIN
	-- A few days: day by day is cheaper than the query.
	IF n <= 5 THEN
		WHILE left_ > 0 LOOP
			r := r + 1;
			IF pakn.is_working_day(r) THEN
				left_ := left_ - 1;
			END IF;
		END LOOP;
		RETURN r;
	END IF;
	SELECT x.day INTO r
	  FROM (SELECT g::date AS day, row_number() OVER (ORDER BY g) AS k
		  FROM generate_series(d + 1, d + 2 * n + 60, interval '1 day') g
		  LEFT JOIN pakn.holiday h ON h.day = g::date
		 WHERE coalesce(h.kind = 'workday', extract(isodow FROM g) < 6)) x
	 WHERE x.k = n;
	RETURN r;
END;
$$;

-- The local (Asia/Ho_Chi_Minh) date of a moment.
CREATE OR REPLACE FUNCTION pakn.local_date(t timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
	SELECT (t AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
$$;

-- When a complaint received at t must be answered: for a category with
-- a law, accepted (the resolution clock starts at acceptance); else its
-- local-policy deadline (pakn.due_at of 004).
CREATE OR REPLACE FUNCTION pakn.due_at(p_category text, t timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(pakn.accept_due(p_category, t),
		pakn.day_end(CASE WHEN c.working_days
		     THEN pakn.add_working_days(pakn.local_date(t), c.deadline_days)
		     ELSE pakn.local_date(t) + c.deadline_days END))
	  FROM pakn.category c WHERE c.code = p_category);
END;
$$;

-- A due moment (end of the local day) n days after the local date of t.
CREATE OR REPLACE FUNCTION pakn.due_after(t timestamptz, n integer, working boolean)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT ((CASE WHEN working
		     THEN pakn.add_working_days(pakn.local_date(t), n)
		     ELSE pakn.local_date(t) + n END)
		+ 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

-- The deadline worker's pass (pakn.deadline_run of 006): reminders before
-- the date promised last (the deadline, or an apology's new date),
-- escalation when it passes, once per date; suspended clocks wait;
-- answered complaints nobody rated are closed. One instance at a time
-- (advisory lock); rows claimed with SKIP LOCKED. p_apology_days is no
-- longer used: the unit sets the apology's date (pakn.complaint_apologize).
CREATE OR REPLACE FUNCTION pakn.deadline_run(p_remind_days integer,
	p_apology_days integer, p_rating_wait_days integer, p_limit integer,
	OUT locked boolean, OUT reminded integer, OUT escalated integer,
	OUT closed integer, OUT sms integer)
LANGUAGE plpgsql AS $$
DECLARE
	c pakn.complaint;
	v_remind date;
	v_remind_end timestamptz;
BEGIN
	reminded := 0; escalated := 0; closed := 0; sms := 0;
	locked := pg_try_advisory_xact_lock(7141747);
	IF NOT locked THEN
		RETURN;
	END IF;
	-- Reminded: due on or before this day (computed once, not for every
	-- open complaint). The due moment's bound, the same condition, lets
	-- the index stop there: without it the scan read every open
	-- complaint due later (1.3 million, 1.5 s a pass, on a scratch
	-- database). (Both scans by complaint_watch_idx, 034, whose
	-- condition on escalated_for they repeat: the reminders' holds for
	-- any moment still to come.)
	v_remind := pakn.add_working_days(pakn.local_date(now()),
		p_remind_days);
	v_remind_end := (v_remind + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
		+ interval '1 second';
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'open' AND suspended_on IS NULL
		    AND now() < coalesce(new_due_at, due_at)
		    AND coalesce(new_due_at, due_at) < v_remind_end
		    AND escalated_for IS DISTINCT FROM coalesce(new_due_at, due_at)
		    AND reminded_for IS DISTINCT FROM coalesce(new_due_at, due_at)
		    AND v_remind >= pakn.local_date(coalesce(new_due_at, due_at)
				- interval '1 second')
		  ORDER BY coalesce(new_due_at, due_at) LIMIT p_limit
		  FOR UPDATE SKIP LOCKED LOOP
		UPDATE pakn.complaint SET reminded_at = now(),
			reminded_for = coalesce(new_due_at, due_at)
		 WHERE id = c.id;
		PERFORM pakn.ledger(c.id, 'system', NULL, 'reminded');
		sms := sms + pakn.notify_unit(c.responsible_unit,
			'{officer,leader,admin}', 'reminder', c.id);
		reminded := reminded + 1;
	END LOOP;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'open' AND suspended_on IS NULL
		    AND now() >= coalesce(new_due_at, due_at)
		    AND escalated_for IS DISTINCT FROM coalesce(new_due_at, due_at)
		  ORDER BY coalesce(new_due_at, due_at) LIMIT p_limit
		  FOR UPDATE SKIP LOCKED LOOP
		sms := sms + pakn.deadline_escalate(c);
		escalated := escalated + 1;
	END LOOP;
	FOR c IN SELECT * FROM pakn.complaint
		  WHERE status = 'answered'
		    AND answered_at < now() - make_interval(days => p_rating_wait_days)
		  ORDER BY answered_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM pakn.complaint_close(c.id, 'system', 'no_reply');
		closed := closed + 1;
	END LOOP;
END;
$$;

-- Monday to Friday days from Monday 2000-01-03 to d, both included.
CREATE OR REPLACE FUNCTION pakn.weekday_index(d date) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT 5 * w + least(n - 7 * w + 1, 5)
	  FROM (SELECT d - date '2000-01-03' AS n,
		       floor((d - date '2000-01-03') / 7.0)::integer AS w) x
$$;

-- Working days after a up to b (b counted, a not); 0 when b <= a.
CREATE OR REPLACE FUNCTION pakn.working_days_between(a date, b date) RETURNS integer
LANGUAGE sql STABLE STRICT AS $$
	SELECT CASE WHEN b <= a THEN 0 ELSE
		pakn.weekday_index(b) - pakn.weekday_index(a)
		- (SELECT count(*) FROM pakn.holiday h
		    WHERE h.day > a AND h.day <= b AND h.kind = 'holiday'
		      AND extract(isodow FROM h.day) < 6)::integer
		+ (SELECT count(*) FROM pakn.holiday h
		    WHERE h.day > a AND h.day <= b AND h.kind = 'workday'
		      AND extract(isodow FROM h.day) >= 6)::integer
	END
$$;

-- A year's status: decided, provisional, or missing (no calendar: only
-- weekends are days off).
CREATE OR REPLACE FUNCTION pakn.calendar_status(p_year integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v text;
BEGIN
	SELECT y.status INTO v FROM pakn.holiday_year y WHERE y.year = p_year;
	RETURN coalesce(v, 'missing');
END;
$$;

-- The year of the last day of a due moment (the end of the due day).
CREATE OR REPLACE FUNCTION pakn.due_year(p_due timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT extract(year FROM pakn.local_date(p_due - interval '1 second'))::integer
$$;

-- Does a due date fall in a year whose days off are not decided yet?
CREATE OR REPLACE FUNCTION pakn.due_provisional(p_due timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_due IS NOT NULL
	   AND pakn.calendar_status(pakn.due_year(p_due)) <> 'decided'
$$;

-- What officials are told about such a due date (empty when decided).
CREATE OR REPLACE FUNCTION pakn.due_note(p_due timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN pakn.due_provisional(p_due)
		THEN format(' (lịch nghỉ năm %s chưa chính thức)',
			pakn.due_year(p_due))
		ELSE '' END
$$;

-- The end of a period of n days from d (Civil Code 2015: art. 147, the
-- first day is not counted; art. 148(5), a period whose last day is a
-- weekend day or a holiday ends on the next working day).
CREATE OR REPLACE FUNCTION pakn.legal_end(d date, n integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r date := d + n;
BEGIN
	FOR i IN 1..60 LOOP
		EXIT WHEN pakn.is_working_day(r);
		r := r + 1;
	END LOOP;
	RETURN r;
END;
$$;

-- The end of a due day, local time, as due_at stores it.
CREATE OR REPLACE FUNCTION pakn.day_end(d date) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT (d + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

-- The rule of a category's law in force on the day a complaint was
-- received at t, or NULL (feedback, or received before the law).
-- PL/pgSQL, as the other functions of the complaint path that read
-- tables: its plan is kept for the session, where a LANGUAGE sql
-- function that cannot be inlined is planned again at every call from a
-- PL/pgSQL statement (PostgreSQL 15), which costs more than running it.
CREATE OR REPLACE FUNCTION pakn.legal_rule_for(p_category text, t timestamptz)
RETURNS pakn.legal_rule
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r pakn.legal_rule;
BEGIN
	SELECT lr.* INTO r
	  FROM pakn.category c JOIN pakn.legal_rule lr ON lr.law = c.law
	 WHERE c.code = p_category
	   AND lr.valid_from <= pakn.local_date(t)
	   AND (lr.valid_until IS NULL OR pakn.local_date(t) < lr.valid_until);
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN r;
END;
$$;

-- When a complaint of a category with a law, received at t, must be
-- accepted (the end of the day); NULL for other categories.
CREATE OR REPLACE FUNCTION pakn.accept_due(p_category text, t timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r pakn.legal_rule := pakn.legal_rule_for(p_category, t);
BEGIN
	IF r.id IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN pakn.day_end(CASE WHEN r.accept_working
		THEN pakn.add_working_days(pakn.local_date(t), r.accept_days)
		ELSE pakn.legal_end(pakn.local_date(t), r.accept_days) END);
END;
$$;

-- The days a complaint's resolution may take: the law's period for its
-- case (complex, remote), its extensions, and the days it was suspended.
CREATE OR REPLACE FUNCTION pakn.clock_days(c pakn.complaint) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN c.remote AND c.complex
			THEN coalesce(r.remote_complex_days, r.complex_days,
				r.remote_days, r.resolve_days)
		    WHEN c.remote THEN coalesce(r.remote_days, r.resolve_days)
		    WHEN c.complex THEN coalesce(r.complex_days, r.resolve_days)
		    ELSE r.resolve_days END
	       + c.extensions * r.extension_days + c.suspended_days
	  FROM pakn.complaint_rule(c) r
$$;

-- When an accepted complaint must be resolved: calendar days from
-- acceptance, the last one moved to the next working day.
CREATE OR REPLACE FUNCTION pakn.resolve_due(c pakn.complaint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT pakn.day_end(pakn.legal_end(c.accepted_on, pakn.clock_days(c)))
$$;

-------------------------------------------------------------------------
-- What people are told
-------------------------------------------------------------------------

-- What a complaint's due date is: 'trả lời' (feedback), 'thụ lý'
-- (waiting for acceptance), 'giải quyết' (accepted); 'ngày hẹn' after
-- an apology.
CREATE OR REPLACE FUNCTION pakn.due_kind(c pakn.complaint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pakn.due_kind(c, pakn.complaint_rule(c))
$$;

-- The same, the complaint's rule (pakn.complaint_rule) given by a caller
-- that has it already.
CREATE OR REPLACE FUNCTION pakn.due_kind(c pakn.complaint, r pakn.legal_rule)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN c.new_due_at IS NOT NULL THEN 'ngày hẹn'
		    WHEN r.id IS NULL THEN 'hạn trả lời'
		    WHEN c.accepted_on IS NULL THEN 'hạn thụ lý'
		    ELSE 'hạn giải quyết' END
$$;

-------------------------------------------------------------------------
-- Acting on the clock: accept, complex, extend, suspend, resume,
-- apologise. Each checks nothing (pakn.clock_check does), changes the
-- row, appends to the ledger (with the due date, so replays know it) and
-- tells the citizen. Each returns the number of SMS queued.
-------------------------------------------------------------------------

-- Why an action on a complaint's clock may not be done (status, and the
-- reason in English for the API and in Vietnamese for SMS), or NULLs.
-- p_date is the decision's date (accept, suspend, resume) or the new date
-- (apologize).
CREATE OR REPLACE FUNCTION pakn.clock_check(c pakn.complaint, p_action text,
	p_date date, p_reason text,
	OUT status integer, OUT en text, OUT vi text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r pakn.legal_rule := pakn.complaint_rule(c);
	cat pakn.category;
	v_today date := pakn.local_date(now());
	v_due date := pakn.local_date(coalesce(c.new_due_at, c.due_at)
		- interval '1 second');
	v_max date;
BEGIN
	SELECT * INTO cat FROM pakn.category WHERE code = c.category_code;
	IF c.status <> 'open' THEN
		status := 409;
		en := format('complaint %s is %s; only open ones can be changed',
			c.ticket, c.status);
		vi := format('phản ánh %s %s.', c.ticket, pakn.status_vi(c.status));
	ELSIF p_action = 'apologize' THEN
		IF c.suspended_on IS NOT NULL THEN
			status := 409;
			en := format('the clock of %s is suspended; resume it first',
				c.ticket);
			vi := format('phản ánh %s đang tạm dừng.', c.ticket);
			RETURN;
		END IF;
		v_max := pakn.add_working_days(greatest(v_today, v_due),
			cat.apology_max_days);
		IF p_date IS NULL THEN
			status := 400;
			en := 'new_due: required, a date YYYY-MM-DD';
			vi := 'thiếu ngày hẹn (ngày/tháng).';
		ELSIF p_date <= greatest(v_today, v_due) THEN
			status := 400;
			en := format('new_due: must be after %s (today or the date due, whichever is later)',
				greatest(v_today, v_due));
			vi := format('ngày hẹn phải sau ngày %s.',
				to_char(greatest(v_today, v_due), 'DD/MM/YYYY'));
		ELSIF p_date > v_max THEN
			status := 400;
			en := format('new_due: at most %s working days after %s, so %s at the latest',
				cat.apology_max_days, greatest(v_today, v_due), v_max);
			vi := format('ngày hẹn chậm nhất là %s (%s ngày làm việc).',
				to_char(v_max, 'DD/MM/YYYY'), cat.apology_max_days);
		ELSIF NOT pakn.is_working_day(p_date) THEN
			status := 400;
			en := format('new_due: %s is a day off', p_date);
			vi := format('ngày %s là ngày nghỉ.', to_char(p_date, 'DD/MM/YYYY'));
		END IF;
	ELSIF r.id IS NULL THEN
		status := 409;
		en := format('category %s is feedback (phản ánh, kiến nghị): its deadline is local policy, without acceptance, complex cases or suspension',
			c.category_code);
		vi := format('phản ánh %s không theo thời hạn luật định.', c.ticket);
	ELSE
		SELECT * INTO status, en, vi
		  FROM pakn.clock_check_law(c, r, p_action, p_date);
	END IF;
	IF status IS NULL AND p_action NOT IN ('accept', 'resume')
			AND coalesce(btrim(p_reason), '') = '' THEN
		status := 400;
		en := 'reason: required, a non-empty string';
		vi := 'thiếu lý do.';
	END IF;
END;
$$;

-- pakn.clock_check for the actions that follow the complaint's law.
CREATE OR REPLACE FUNCTION pakn.clock_check_law(c pakn.complaint, r pakn.legal_rule,
	p_action text, p_date date,
	OUT status integer, OUT en text, OUT vi text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_today date := pakn.local_date(now());
BEGIN
	status := 409;
	IF p_action = 'accept' AND c.accepted_on IS NOT NULL THEN
		en := format('%s was accepted on %s', c.ticket, c.accepted_on);
		vi := format('phản ánh %s đã thụ lý ngày %s.', c.ticket,
			to_char(c.accepted_on, 'DD/MM/YYYY'));
	ELSIF p_action <> 'accept' AND p_action <> 'complex'
			AND c.accepted_on IS NULL THEN
		en := format('%s is not accepted yet; accept it first (POST .../accept)',
			c.ticket);
		vi := format('phản ánh %s chưa thụ lý.', c.ticket);
	ELSIF p_action = 'complex' AND r.complex_days IS NULL THEN
		en := format('%s: a complex case is extended instead (POST .../extend, at most %s times %s days)',
			r.name, r.max_extensions, r.extension_days);
	ELSIF p_action = 'complex' AND c.complex THEN
		en := format('%s is marked complex already', c.ticket);
	ELSIF p_action = 'extend' AND r.max_extensions = 0 THEN
		en := format('%s allows no extension; a complex case gets %s days (POST .../complex)',
			r.name, r.complex_days);
	ELSIF p_action = 'extend' AND c.extensions >= r.max_extensions THEN
		en := format('%s was extended %s times; %s allows at most %s extensions of %s days',
			c.ticket, c.extensions, r.name, r.max_extensions,
			r.extension_days);
	ELSIF p_action = 'suspend' AND NOT r.suspension THEN
		en := format('%s (received %s) allows no suspension: suspension came with Law 136/2025/QH15 for complaints received from 1 July 2026',
			r.name, pakn.local_date(c.created_at));
	ELSIF p_action = 'suspend' AND c.suspended_on IS NOT NULL THEN
		en := format('%s is suspended already since %s', c.ticket,
			c.suspended_on);
	ELSIF p_action = 'resume' AND c.suspended_on IS NULL THEN
		en := format('%s is not suspended', c.ticket);
	ELSIF p_date IS NOT NULL AND p_date > v_today THEN
		status := 400;
		en := format('date: %s is in the future', p_date);
		vi := format('ngày %s chưa đến.', to_char(p_date, 'DD/MM/YYYY'));
	ELSIF p_date IS NOT NULL AND p_date < coalesce(c.suspended_on,
			c.accepted_on, pakn.local_date(c.created_at)) THEN
		status := 400;
		en := format('date: %s is before %s', p_date,
			coalesce(c.suspended_on, c.accepted_on,
				pakn.local_date(c.created_at)));
		vi := format('ngày %s sớm hơn ngày nhận đơn.',
			to_char(p_date, 'DD/MM/YYYY'));
	ELSE
		status := NULL;
	END IF;
	IF status IS NOT NULL AND vi IS NULL THEN
		vi := 'không thực hiện được với phản ánh này.';
	END IF;
END;
$$;

-- Do a checked clock action. Returns the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.clock_do(c pakn.complaint, p_actor_id text,
	p_action text, p_date date, p_reason text, p_inbound bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	RETURN CASE p_action
	WHEN 'accept' THEN pakn.complaint_accept(c.id, p_actor_id,
		coalesce(p_date, pakn.local_date(now())), p_reason, p_inbound)
	WHEN 'complex' THEN pakn.complaint_complex(c.id, p_actor_id, p_reason)
	WHEN 'extend' THEN pakn.complaint_extend_legal(c.id, p_actor_id,
		p_reason)
	WHEN 'suspend' THEN pakn.complaint_suspend(c.id, p_actor_id,
		coalesce(p_date, pakn.local_date(now())), p_reason)
	WHEN 'resume' THEN pakn.complaint_resume(c.id, p_actor_id,
		coalesce(p_date, pakn.local_date(now())), p_reason)
	ELSE pakn.complaint_apologize(c.id, p_actor_id, p_date, p_reason,
		p_inbound) END;
END;
$$;

-- The SMS commands accept (THU LY) and apologize (HEN) are dispatched by
-- pakn.handle_sms, whose one definition with every command is in 020.

-------------------------------------------------------------------------
-- The deadline worker
-------------------------------------------------------------------------

-- Escalate the passing of a complaint's date promised last: the first
-- time (no apology yet) the unit's leaders and the parent unit are told,
-- the unit's officers are asked for the apology and the citizen is told
-- one will come; after an apology's new date, the officers are reminded,
-- the leaders and the parent told again, and the citizen too. Returns
-- the number of SMS queued.
CREATE OR REPLACE FUNCTION pakn.deadline_escalate(c pakn.complaint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_again boolean := c.new_due_at IS NOT NULL;
	v_parent text;
	n integer := 0;
BEGIN
	UPDATE pakn.complaint SET overdue = true,
		escalated_at = coalesce(escalated_at, now()),
		escalated_for = coalesce(new_due_at, due_at)
	 WHERE id = c.id;
	SELECT parent_code INTO v_parent FROM pakn.unit
	 WHERE code = c.responsible_unit;
	PERFORM pakn.ledger(c.id, 'system', NULL, 'escalated', NULL,
		jsonb_build_object('unit', c.responsible_unit, 'parent', v_parent)
		|| CASE WHEN v_again THEN jsonb_build_object('again', true,
			'new_due_at', c.new_due_at) ELSE '{}' END);
	n := pakn.notify_unit(c.responsible_unit, '{leader}',
		CASE WHEN v_again THEN 'escalation_again' ELSE 'escalation' END, c.id);
	IF v_parent IS NOT NULL THEN
		n := n + pakn.notify_unit(v_parent, '{leader,admin}',
			CASE WHEN v_again THEN 'escalation_again' ELSE 'escalation' END,
			c.id);
	END IF;
	n := n + pakn.notify_unit(c.responsible_unit, '{officer}',
		CASE WHEN v_again THEN 'reminder_again' ELSE 'apology_due' END, c.id);
	RETURN n + pakn.reply(c.gateway, c.msisdn, CASE WHEN v_again
		THEN 'overdue_again' ELSE 'overdue_notice' END,
		pakn.complaint_vars(c.id), c.id, NULL);
END;
$$;

-- The local midnight that started today (Asia/Ho_Chi_Minh).
CREATE OR REPLACE FUNCTION pakn.local_midnight(t timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT pakn.local_date(t)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;
