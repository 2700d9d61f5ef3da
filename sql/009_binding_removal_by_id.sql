-- Junction schema 9: junction_register_batch() removes bindings by id,
-- not by ctid, so that binding may be partitioned (doc/SCALING.md).
--
-- A ctid is a row's place in its own table: in a partitioned binding the
-- same ctid names a row in each partition, and "DELETE ... WHERE ctid =
-- ANY (...)" removes all of them, other AORs' bindings with the one meant.
-- id is the row's alone (its sequence gives each row its own). The rows
-- are found by the same index lookups as before (their AOR and Contact,
-- or their AOR), then deleted through the primary key's index (an index
-- scan, whatever the plan, as the TID scan was); a removal is rare beside
-- a refresh, and it costs one index probe more a row.
--
-- Made from the function as sql/002 defined it, so that only this
-- statement changes; refused if that is not what the database has.
DO $$
DECLARE
    f oid := 'junction_register_batch(text[], text[], bigint[], text[], integer[], numeric[],
              text[], integer[], boolean[], text[], text[], text[], text[], integer[],
              integer[])'::regprocedure;
    def text := pg_get_functiondef(f);
    was text := def;
    n integer;
BEGIN
    n := (length(def) - length(replace(def, 'ctid', ''))) / 4;
    IF n <> 5 THEN
        RAISE EXCEPTION 'junction_register_batch(): % ctid, not the 5 of sql/002', n;
    END IF;
    def := replace(def, 'WHERE ctid = ANY (ARRAY(', 'WHERE id = ANY (ARRAY(');
    def := replace(def, 'SELECT bb.ctid', 'SELECT bb.id');
    def := replace(def, 'SELECT b.ctid FROM binding b', 'SELECT b.id FROM binding b');
    IF position('ctid' IN def) > 0 OR def = was THEN
        RAISE EXCEPTION 'junction_register_batch(): its removal is not the one of sql/002';
    END IF;
    EXECUTE def;
END
$$;
