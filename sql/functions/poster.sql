-- functions/poster.sql: what a unit's printable poster shows
-- (daemon/poster.c).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

-- The unit (with its province or parent), an example of a category
-- keyword, and the categories grouped by answer time; NULL if no unit.
CREATE OR REPLACE FUNCTION pakn.poster(p_unit text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'code', u.code,
		'name', u.name,
		'kind', u.kind,
		'parent', (SELECT p.name FROM pakn.unit p
			    WHERE p.code = u.parent_code),
		'times', coalesce((
			SELECT jsonb_agg(jsonb_build_object('days', t.days,
				'working', t.working, 'names', t.names)
				ORDER BY t.days, t.working DESC)
			  FROM (SELECT c.deadline_days AS days,
				       c.working_days AS working,
				       jsonb_agg(c.name ORDER BY c.name) AS names
				  FROM pakn.category c
				 WHERE NOT c.sensitive AND c.law IS NULL
				 GROUP BY c.deadline_days, c.working_days) t),
			'[]'::jsonb),
		'laws', coalesce((
			SELECT jsonb_agg(jsonb_build_object('law', r.law,
				'name', r.name, 'accept_days', r.accept_days,
				'accept_working', r.accept_working,
				'resolve_days', r.resolve_days,
				'remote_days', r.remote_days,
				'categories', (SELECT jsonb_agg(c.name ORDER BY c.name)
					FROM pakn.category c WHERE c.law = r.law))
				ORDER BY r.law)
			  FROM pakn.legal_rule r
			 WHERE r.valid_from <= pakn.local_date(now())
			   AND (r.valid_until IS NULL
				OR r.valid_until > pakn.local_date(now()))),
			'[]'::jsonb),
		'sensitive', coalesce((
			SELECT jsonb_agg(c.name ORDER BY c.name)
			  FROM pakn.category c WHERE c.sensitive), '[]'::jsonb))
	  FROM pakn.unit u
	 WHERE u.code = p_unit
$$;
