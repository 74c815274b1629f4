-- 015: what the printable poster of a unit shows (GET /poster/UNIT,
-- paknctl poster UNIT; daemon/poster.c writes the page). The answer
-- times are those of pakn.category: statutory where a category follows a
-- law, local policy otherwise (see the README's deadlines section).

-- The unit (with its province or parent), an example of a category
-- keyword, and the categories grouped by answer time; NULL if no unit.
CREATE FUNCTION pakn.poster(p_unit text) RETURNS jsonb
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
				 WHERE NOT c.sensitive
				 GROUP BY c.deadline_days, c.working_days) t),
			'[]'::jsonb),
		'sensitive', coalesce((
			SELECT jsonb_agg(c.name ORDER BY c.name)
			  FROM pakn.category c WHERE c.sensitive), '[]'::jsonb))
	  FROM pakn.unit u
	 WHERE u.code = p_unit
$$;
