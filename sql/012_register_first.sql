-- Junction schema 12: the first binding of an AOR in two statements.
--
-- junction_register() (the REGISTERs of a batch too small to merge, and
-- those a batch hands on one by one) decides every REGISTER the same way:
-- a look at each Contact's binding (§10.3 step 7), the count of the AOR's
-- live bindings (the contact limit), the INSERT or UPDATE, and a read of
-- all the AOR's bindings for the 200 (step 8): four statements. When the
-- AOR has no live binding at all and the REGISTER adds one Contact (no
-- "*", no removal, no RFC 5626 flow), the first two find nothing and the
-- last reads back the one row written: so one look for a live binding,
-- then the INSERT, whose RETURNING is the answer. That is every REGISTER
-- of a registration storm, and the same answer as before.
--
-- Made from the function as sql/002 defined it, with the fast path put in
-- front of its decision; refused if that is not what the database has.
DO $$
DECLARE
    f oid := 'junction_register(text, text, bigint, text[], integer[], numeric[], text[],
              integer[], boolean, text, text, text, text, integer)'::regprocedure;
    def text := pg_get_functiondef(f);
    was text := def;
    anchor text := E'    IF p_star THEN\n';
BEGIN
    IF (length(def) - length(replace(def, anchor, ''))) / length(anchor) <> 1 THEN
        RAISE EXCEPTION 'junction_register(): not the one of sql/002';
    END IF;
    def := replace(def, anchor, $fast$    -- sql/012: an AOR's first binding, one Contact added
    IF NOT p_star AND n = 1 AND p_expires[1] > 0
       AND (p_instance[1] IS NULL OR p_reg_id[1] IS NULL) AND p_max_contacts >= 1
       AND NOT EXISTS (SELECT 1 FROM binding b WHERE b.aor = p_aor AND b.expires_at > now()) THEN
        RETURN QUERY
            INSERT INTO binding AS b (aor, contact, expires_at, q, call_id, cseq, received,
                                      path, user_agent, instance, reg_id, node, updated_at)
            VALUES (p_aor, p_contacts[1], now() + make_interval(secs => p_expires[1]),
                    p_q[1], p_call_id, p_cseq, p_received, p_path, p_user_agent,
                    p_instance[1], p_reg_id[1], p_node, now())
            ON CONFLICT ON CONSTRAINT binding_aor_contact_key DO UPDATE
                SET expires_at = EXCLUDED.expires_at, q = EXCLUDED.q,
                    call_id = EXCLUDED.call_id, cseq = EXCLUDED.cseq,
                    received = EXCLUDED.received, path = EXCLUDED.path,
                    user_agent = EXCLUDED.user_agent, instance = EXCLUDED.instance,
                    reg_id = EXCLUDED.reg_id, node = EXCLUDED.node, updated_at = now()
            RETURNING 200, b.contact, b.q,
                      greatest(1, ceil(extract(epoch FROM b.expires_at - now())))::integer,
                      b.path;
        RETURN;
    END IF;

$fast$ || anchor);
    IF def = was THEN
        RAISE EXCEPTION 'junction_register(): unchanged';
    END IF;
    EXECUTE def;
END
$$;
