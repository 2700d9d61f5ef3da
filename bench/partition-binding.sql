-- bench/partition-binding.sql: the binding table, hash-partitioned by AOR.
--
--     psql -X -v ON_ERROR_STOP=1 -d junction -f bench/partition-binding.sql
--     psql ... -v partitions=16 -f bench/partition-binding.sql   (8 unless given)
--
-- For issue 22 ("the path past one database"): what declarative hash
-- partitioning of binding does to REGISTERs, without changing Junction.
-- Run it on a database Junction has migrated (schema 9 or later: see
-- sql/009_binding_removal_by_id.sql), as the owner
-- of the schema's objects or a superuser. It turns binding into a table
-- PARTITION BY HASH (aor) with the given number of partitions
-- (binding_p0 ..) and moves the rows there, in one transaction: either
-- all of it happens or nothing does.
--
-- Junction: stopping the nodes first is the tested path (bench/run
-- reg_partitioned, the integration tests). The table is locked ACCESS
-- EXCLUSIVE from the start, and statements that wait for that lock go on
-- afterwards against the new table (PostgreSQL plans them again when a
-- table they use is dropped: a node's session with cached plans and
-- prepared statements of its own carried on correctly in a test); while
-- the script runs, the nodes' REGISTERs wait for it.
--
-- What Junction relies on, and how it is kept:
--   - every column, its type, NOT NULL, default (id's sequence included)
--     and CHECK: CREATE TABLE ... (LIKE binding_unpartitioned INCLUDING
--     ALL EXCLUDING INDEXES), so columns a later migration adds come too;
--   - UNIQUE (aor, contact), named binding_aor_contact_key: INSERT ... ON
--     CONFLICT ON CONSTRAINT binding_aor_contact_key names it. It includes
--     the partition key, so it can stay a constraint of the whole table;
--   - the primary key: a partitioned table's must include the key, so it
--     becomes PRIMARY KEY (id, aor). id first: the admin API reads and
--     deletes a binding by its id alone and lists them ORDER BY id, and
--     the sweeper deletes by id; (id, aor) serves all of them by index
--     (one probe per partition, or a Merge Append in id order), where
--     (aor, id) would not. id alone is no longer declared unique (it
--     cannot be); its sequence still makes it so, since nothing else
--     writes id (reg_event.binding_id relies on that, as before);
--   - fillfactor 70 (room for HOT updates of refreshed rows): a partitioned
--     table takes no storage parameters, so each partition gets the old
--     table's (fillfactor and any autovacuum setting an operator added);
--   - the triggers: the NOTIFY ones (FOR EACH ROW, cloned by PostgreSQL
--     onto every partition) and the registration-event ones (FOR EACH
--     STATEMENT with transition tables, on the partitioned table alone,
--     which see the rows of every partition), each with its enabled or
--     disabled state; junction_reg_event_setup() switches them on the
--     partitioned table by name, as before;
--   - the views on binding (active_bindings): a view is bound to its
--     table, not its name, so each is dropped and made again on the new
--     table with its owner, options and grants;
--   - grants on binding, its owner (for the partitions too) and the id
--     sequence (moved to the new table's id: it would go with the old one);
--   - no function may remove bindings by ctid, a row's place in its own
--     partition, the same in several partitions ("DELETE FROM binding
--     WHERE ctid = ANY (...)" on a partitioned table deletes that place in
--     every partition: other AORs' bindings). Schema 9 made
--     junction_register_batch() remove by id; the check at the end refuses
--     to finish while any function of binding uses ctid.
-- What is not carried over, and refused rather than lost: foreign keys
-- to binding, rules, policies (row security), publications, column
-- privileges, and views on the views: there are none in Junction's
-- schema; if an operator added some, the script stops before changing
-- anything, and says which.

\set ON_ERROR_STOP on
\if :{?partitions}
\else
\set partitions 8
\endif

BEGIN;

SELECT set_config('junction.partitions', :'partitions', true) AS partitions \gset

-- Everything that reads or writes binding waits from here to COMMIT.
LOCK TABLE binding IN ACCESS EXCLUSIVE MODE;

-- What this script cannot carry over: stop before changing anything.
DO $$
DECLARE
    rel regclass := 'binding'::regclass;
    what text;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = rel) = 'p' THEN
        RAISE EXCEPTION 'binding is partitioned already';
    END IF;
    IF current_setting('junction.partitions')::integer NOT BETWEEN 2 AND 1024 THEN
        RAISE EXCEPTION 'partitions must be between 2 and 1024, not %',
            current_setting('junction.partitions');
    END IF;
    SELECT string_agg(x, ', ') INTO what FROM (
        SELECT 'foreign key ' || conname || ' of ' || conrelid::regclass AS x
            FROM pg_constraint WHERE confrelid = rel
        UNION ALL
        SELECT 'rule ' || rulename FROM pg_rewrite
            WHERE ev_class = rel AND rulename <> '_RETURN'
        UNION ALL
        SELECT 'policy ' || polname FROM pg_policy WHERE polrelid = rel
        UNION ALL
        SELECT 'publication ' || pubname FROM pg_publication_tables
            WHERE schemaname = (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = rel)
              AND tablename = 'binding'
        UNION ALL
        SELECT 'column privileges on ' || attname FROM pg_attribute
            WHERE attrelid = rel AND attacl IS NOT NULL
        UNION ALL
        -- a view on a view of binding would have to be made again too
        SELECT DISTINCT 'view ' || v2.ev_class::regclass || ' on view ' || v1.ev_class::regclass
            FROM pg_depend d1 JOIN pg_rewrite v1 ON d1.classid = 'pg_rewrite'::regclass
                                                AND d1.objid = v1.oid
                 JOIN pg_depend d2 ON d2.refobjid = v1.ev_class AND d2.classid = 'pg_rewrite'::regclass
                 JOIN pg_rewrite v2 ON v2.oid = d2.objid AND v2.ev_class <> v1.ev_class
            WHERE d1.refobjid = rel AND d1.refclassid = 'pg_class'::regclass
              AND v1.ev_class <> rel
    ) s;
    IF what IS NOT NULL THEN
        RAISE EXCEPTION 'binding has % : not carried over by this script', what;
    END IF;
END
$$;

-- The views on binding, as they are now (their text names binding, so
-- made again after the rename they name the new table), then dropped.
CREATE TEMP TABLE partition_views ON COMMIT DROP AS
    SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS def,
           c.reloptions AS opts, pg_get_userbyid(c.relowner) AS owner, c.relacl AS acl
    FROM pg_depend d
    JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    JOIN pg_class c ON c.oid = r.ev_class
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = 'binding'::regclass
      AND c.oid <> 'binding'::regclass AND c.relkind = 'v';

DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT * FROM partition_views LOOP
        EXECUTE 'DROP VIEW ' || v.name;
    END LOOP;
END
$$;

-- The old table steps aside, its constraints (and their indexes) renamed
-- so that the new ones can take the names Junction uses.
ALTER TABLE binding RENAME TO binding_unpartitioned;
ALTER TABLE binding_unpartitioned RENAME CONSTRAINT binding_pkey TO binding_unpartitioned_pkey;
ALTER TABLE binding_unpartitioned
    RENAME CONSTRAINT binding_aor_contact_key TO binding_unpartitioned_aor_contact_key;

-- The new table: the same columns, defaults and checks; its partitions
-- with the old table's storage parameters (fillfactor = 70).
CREATE TABLE binding (LIKE binding_unpartitioned INCLUDING ALL EXCLUDING INDEXES)
    PARTITION BY HASH (aor);

DO $$
DECLARE
    n integer := current_setting('junction.partitions')::integer;
    opts text[] := (SELECT reloptions FROM pg_class
                    WHERE oid = 'binding_unpartitioned'::regclass);
    owner text := (SELECT pg_get_userbyid(relowner) FROM pg_class
                   WHERE oid = 'binding_unpartitioned'::regclass);
BEGIN
    FOR i IN 0 .. n - 1 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF binding
                            FOR VALUES WITH (MODULUS %s, REMAINDER %s) %s',
                       'binding_p' || i, n, i,
                       CASE WHEN opts IS NULL THEN ''
                            ELSE 'WITH (' || array_to_string(opts, ', ') || ')' END);
        EXECUTE format('ALTER TABLE %I OWNER TO %I', 'binding_p' || i, owner);
    END LOOP;
    EXECUTE format('ALTER TABLE binding OWNER TO %I', owner);
END
$$;

-- The keys, on the partitioned table (an index on each partition).
ALTER TABLE binding ADD CONSTRAINT binding_pkey PRIMARY KEY (id, aor);
ALTER TABLE binding ADD CONSTRAINT binding_aor_contact_key UNIQUE (aor, contact);

-- id's sequence belongs to the new table's id now (owned by the old one,
-- it would be dropped with it).
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN
        SELECT d.objid::regclass AS seq, a.attname
        FROM pg_depend d
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = 'binding_unpartitioned'::regclass AND d.deptype = 'a'
          AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S'
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNED BY binding.%I', s.seq, s.attname);
    END LOOP;
END
$$;

-- The rows, before the triggers exist: moving a binding is no change of
-- it (no NOTIFY to the nodes, no registration event).
INSERT INTO binding SELECT * FROM binding_unpartitioned;

-- The triggers, as defined on the old table (pg_get_triggerdef), with
-- their enabled state; the grants on the table.
DO $$
DECLARE
    t record;
    g record;
BEGIN
    FOR t IN
        SELECT tgname, tgenabled, pg_get_triggerdef(oid) AS def
        FROM pg_trigger
        WHERE tgrelid = 'binding_unpartitioned'::regclass AND NOT tgisinternal
        ORDER BY tgname
    LOOP
        EXECUTE regexp_replace(t.def, ' ON \S*binding_unpartitioned ', ' ON binding ');
        IF t.tgenabled = 'D' THEN
            EXECUTE format('ALTER TABLE binding DISABLE TRIGGER %I', t.tgname);
        ELSIF t.tgenabled IN ('R', 'A') THEN
            EXECUTE format('ALTER TABLE binding ENABLE %s TRIGGER %I',
                           CASE t.tgenabled WHEN 'R' THEN 'REPLICA' ELSE 'ALWAYS' END, t.tgname);
        END IF;
    END LOOP;
    FOR g IN
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                   AS grantee,
               a.privilege_type, a.is_grantable
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'binding_unpartitioned'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON binding TO %s%s', g.privilege_type, g.grantee,
                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

-- The views again, on the new table, with their options, owners, grants.
DO $$
DECLARE
    v record;
    g record;
BEGIN
    FOR v IN SELECT * FROM partition_views ORDER BY name LOOP
        EXECUTE format('CREATE VIEW %s %s AS %s', v.name,
                       CASE WHEN v.opts IS NULL THEN ''
                            ELSE 'WITH (' || array_to_string(v.opts, ', ') || ')' END,
                       rtrim(v.def, ';'));
        EXECUTE format('ALTER VIEW %s OWNER TO %I', v.name, v.owner);
        FOR g IN
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                        ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
                   a.privilege_type, a.is_grantable
            FROM aclexplode(v.acl) a
            WHERE a.grantee <> (SELECT oid FROM pg_roles WHERE rolname = v.owner)
        LOOP
            EXECUTE format('GRANT %s ON %s TO %s%s', g.privilege_type, v.name, g.grantee,
                           CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;

-- Nothing may still use the old table, or ctid on the new one.
DO $$
DECLARE
    what text;
BEGIN
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO what
    FROM pg_proc p
    WHERE p.prosrc ~ '\mbinding\M' AND p.prosrc ~ '\mctid\M';
    IF what IS NOT NULL THEN
        RAISE EXCEPTION 'functions on binding still use ctid: %', what;
    END IF;
END
$$;
DROP TABLE binding_unpartitioned;

-- Statistics for the planner, as the old table had.
ANALYZE binding;

COMMIT;
