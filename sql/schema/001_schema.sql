-- 001: the pakn schema. Every object of pakn lives in it; the migration
-- table pakn.schema_migration is created by paknctl migrate itself.
CREATE SCHEMA IF NOT EXISTS pakn;
COMMENT ON SCHEMA pakn IS 'pakn: citizen feedback by SMS and USSD';
