-- functions/classify.sql: which category a complaint text belongs to
-- (the keyword patterns themselves are generated columns of
-- pakn.category: sql/schema/003, 013).
--
-- CREATE OR REPLACE only: migrate re-applies this file whenever it
-- changes. Tables, and the functions they need to exist, are in
-- sql/schema/ (README, "SQL").

CREATE OR REPLACE FUNCTION pakn.classify(p_text text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text := pakn.classify_words(p_text);
	v text;
BEGIN
	SELECT c.code INTO v
	  FROM pakn.category c, unnest(c.patterns) k
	 WHERE strpos(w, k) > 0
	 ORDER BY length(k) DESC, c.code
	 LIMIT 1;
	RETURN coalesce(v, 'general');
END;
$$;

-- Classification reads a bounded head of the text. pakn.classify folded
-- the whole text once per keyword pattern (about 190): a 60 KB message of
-- 30 000 words cost seconds. Now the text is folded once, and only its
-- first 300 words (about ten SMS parts), read from at most its first
-- 3 000 characters, are matched: a complaint names its subject early; the
-- rest is stored and shown, only not classified.
CREATE OR REPLACE FUNCTION pakn.classify_words(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ' ' || array_to_string((string_to_array(btrim(pakn.fold_words(
		CASE WHEN length(p_text) <= 3000 THEN p_text
		     -- Drop the word the cut went through.
		     ELSE regexp_replace(left(p_text, 3000), '\S*$', '') END)),
		' '))[1:300], ' ') || ' '
$$;

-- The part of a text the classifier reads: its first 3 000 characters,
-- cut at a word (as pakn.classify_words of 011 reads at most 300 words),
-- so that no message costs more than a short one to classify.
CREATE OR REPLACE FUNCTION pakn.classify_head(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE WHEN length(p_text) <= 3000 THEN p_text
		    ELSE regexp_replace(left(p_text, 3000), '\S*$', '') END
$$;

-- The sensitive category whose keyword the text holds (the longest), or
-- NULL. The text is untyped once; the keywords were when written. These
-- three are PL/pgSQL so that their plans are kept: as SQL functions they
-- were planned again for every message (2.8 ms of 3 ms).
CREATE OR REPLACE FUNCTION pakn.sensitive_category(p_text text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text := pakn.untype_words(pakn.classify_head(p_text));
	v text;
BEGIN
	SELECT c.code INTO v
	  FROM pakn.category c, unnest(c.untyped) u
	 WHERE c.sensitive AND strpos(w, u) > 0
	 ORDER BY length(u) DESC, c.code
	 LIMIT 1;
	RETURN v;
END;
$$;

-- The category of a citizen's text: a sensitive one if any of its
-- keywords is there, else pakn.classify of the text, else pakn.classify
-- of the untyped text.
CREATE OR REPLACE FUNCTION pakn.category_of(p_text text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	h text := pakn.classify_head(p_text);
BEGIN
	RETURN coalesce(pakn.sensitive_category(h),
		nullif(pakn.classify(h), 'general'),
		pakn.classify(pakn.untype(h)));
END;
$$;

-- Does the text fit no category (pakn.category_of gave 'general' without
-- a keyword of it)?
CREATE OR REPLACE FUNCTION pakn.fits_no_category(p_text text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	h text := pakn.classify_head(p_text);
BEGIN
	RETURN pakn.category_of(h) = 'general'
	   AND NOT EXISTS (SELECT 1 FROM pakn.category c, unnest(c.patterns) k
		WHERE c.code = 'general'
		  AND strpos(pakn.fold_words(pakn.untype(h)), k) > 0);
END;
$$;
