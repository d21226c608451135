-- The portal's two database roles (deploy/README.md, "Database roles").
--
--   owner: owns the tables and runs the migrations (`manage.py migrate`);
--   app:   what gunicorn and Celery connect as: reads and writes rows, nothing more. It is not
--          the owner, so it cannot ALTER a table or DISABLE its triggers, and it has no
--          TRUNCATE; it cannot change or delete an acceptance of the terms or an evidence check.
--
-- Run as a superuser, connected to the portal's database, before the first migration and again
-- after every migration (it only adds what is missing; running it twice changes nothing):
--
--   psql -v ON_ERROR_STOP=1 -v owner=mpassid_owner -v app=mpassid_app -d mpassid \
--        -f deploy/roles.sql
--
-- Passwords are not set here: `\password mpassid_owner` and `\password mpassid_app` in psql
-- (or use peer/certificate authentication in pg_hba.conf).
--
-- tests/security/test_database_roles.py runs these statements as they are written here.

SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec

-- Neither role is a superuser, nor may it make roles or databases, nor bypass row security.
ALTER ROLE :"owner" NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE :"app" NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;

-- The database: both connect; nobody else does.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I',
              current_database(), :'owner', :'app') \gexec

-- The schema: the owner creates the tables in it, the application only finds them.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";

-- Rows: the tables that exist, and every table and sequence the owner's migrations create.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- Evidence: an acceptance of the terms and an evidence check are written once, never changed
-- or deleted. Terms versions keep UPDATE and DELETE: staff edit and delete drafts in the admin,
-- and the database's triggers refuse both for a published version. (The tables exist after the
-- first migration: hence running this file again after it.)
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I', name, :'app')
  FROM unnest(ARRAY['onboarding_termsacceptance', 'onboarding_evidencecheck']) AS name
 WHERE to_regclass(name) IS NOT NULL \gexec
