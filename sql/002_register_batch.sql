-- Junction schema 2: many REGISTERs in one statement.
--
-- A node sends the REGISTERs that reach it within one database round trip
-- together, as one call of junction_register_batch(). Per REGISTER, the
-- decision and the changes are those of junction_register() (RFC 3261
-- §10.3 steps 6-8); what changes is the cost: a few statements for the
-- whole batch instead of four or five for each REGISTER, and with them
-- the executor start-up and trigger set-up that were most of the
-- database's CPU per REGISTER.

-- A REGISTER that removes the last binding of its AOR (a Contact with
-- expires=0) found no binding to return, and so returned no row at all,
-- which read as a failure: the 200 now comes as one row with a NULL
-- contact, as for "*".
CREATE OR REPLACE FUNCTION junction_register(
    p_aor text, p_call_id text, p_cseq bigint,
    p_contacts text[], p_expires integer[], p_q numeric[],
    p_instance text[], p_reg_id integer[],
    p_star boolean, p_received text, p_path text, p_user_agent text,
    p_node text, p_max_contacts integer)
RETURNS TABLE (status integer, contact text, q numeric, expires integer, path text)
LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(p_contacts, 1), 0);
    i integer;
    cur record;
    adds integer := 0;
    removes integer := 0;
    active integer;
    retransmission boolean := false;
BEGIN
    -- Serialise REGISTERs for this AOR across all nodes and workers.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_aor, 0));

    IF p_star THEN
        -- §10.3 step 6: remove all, unless a binding of the same Call-ID
        -- has a CSeq not lower than this request's (a retransmitted "*"
        -- finds nothing left and is answered 200 again).
        IF EXISTS (SELECT 1 FROM binding b WHERE b.aor = p_aor AND b.call_id = p_call_id
                   AND b.cseq >= p_cseq AND b.expires_at > now()) THEN
            RETURN QUERY SELECT 500, NULL::text, NULL::numeric, NULL::integer, NULL::text;
            RETURN;
        END IF;
        DELETE FROM binding b WHERE b.aor = p_aor;
        RETURN QUERY SELECT 200, NULL::text, NULL::numeric, NULL::integer, NULL::text;
        RETURN;
    END IF;

    -- §10.3 step 7, checked for every contact before anything changes. The
    -- same Call-ID and CSeq again is a retransmission: nothing changes and
    -- it gets the same answer as the original.
    FOR i IN 1 .. n LOOP
        SELECT b.call_id, b.cseq INTO cur FROM binding b
        WHERE b.aor = p_aor AND b.contact = p_contacts[i] AND b.expires_at > now();
        IF FOUND THEN
            IF cur.call_id = p_call_id AND cur.cseq > p_cseq THEN
                RETURN QUERY SELECT 500, NULL::text, NULL::numeric, NULL::integer, NULL::text;
                RETURN;
            END IF;
            IF cur.call_id = p_call_id AND cur.cseq = p_cseq THEN
                retransmission := true;
            END IF;
            IF p_expires[i] = 0 THEN
                removes := removes + 1;
            END IF;
        ELSIF p_expires[i] > 0 THEN
            adds := adds + 1;
        END IF;
    END LOOP;

    IF retransmission THEN
        adds := 0;
        n := 0;
    END IF;

    IF adds > 0 THEN
        SELECT count(*) INTO active FROM binding b WHERE b.aor = p_aor AND b.expires_at > now();
        IF active - removes + adds > p_max_contacts THEN
            RETURN QUERY SELECT 403, NULL::text, NULL::numeric, NULL::integer, NULL::text;
            RETURN;
        END IF;
    END IF;

    FOR i IN 1 .. n LOOP
        IF p_expires[i] = 0 THEN
            DELETE FROM binding b WHERE b.aor = p_aor AND b.contact = p_contacts[i];
        ELSE
            -- RFC 5626 §6: a new flow of the same instance and reg-id
            -- replaces the old one, whatever its Contact.
            IF p_instance[i] IS NOT NULL AND p_reg_id[i] IS NOT NULL THEN
                DELETE FROM binding b WHERE b.aor = p_aor AND b.instance = p_instance[i]
                    AND b.reg_id = p_reg_id[i] AND b.contact <> p_contacts[i];
            END IF;
            INSERT INTO binding AS b (aor, contact, expires_at, q, call_id, cseq, received,
                                      path, user_agent, instance, reg_id, node, updated_at)
            VALUES (p_aor, p_contacts[i], now() + make_interval(secs => p_expires[i]),
                    p_q[i], p_call_id, p_cseq, p_received, p_path, p_user_agent,
                    p_instance[i], p_reg_id[i], p_node, now())
            ON CONFLICT ON CONSTRAINT binding_aor_contact_key DO UPDATE
                SET expires_at = EXCLUDED.expires_at, q = EXCLUDED.q,
                    call_id = EXCLUDED.call_id, cseq = EXCLUDED.cseq,
                    received = EXCLUDED.received, path = EXCLUDED.path,
                    user_agent = EXCLUDED.user_agent, instance = EXCLUDED.instance,
                    reg_id = EXCLUDED.reg_id, node = EXCLUDED.node, updated_at = now();
        END IF;
    END LOOP;

    RETURN QUERY
        SELECT 200, b.contact, b.q, b.expires, b.path
        FROM (VALUES (1)) AS one (x)
        LEFT JOIN LATERAL (
            SELECT bb.contact, bb.q, bb.path, bb.updated_at,
                   greatest(1, ceil(extract(epoch FROM bb.expires_at - now())))::integer AS expires
            FROM binding bb
            WHERE bb.aor = p_aor AND bb.expires_at > now()
        ) b ON true
        ORDER BY b.q DESC, b.updated_at DESC;
END
$$;

-- Several REGISTERs (RFC 3261 §10.3 steps 6-8), each atomically for its
-- AOR, in one statement.
--
-- Every parameter is an array. The r_ ones have one entry per REGISTER,
-- in the order of junction_register()'s parameters; the c_ ones one entry
-- per Contact, the Contacts of each REGISTER in turn, r_ncontacts of them.
-- Returns, for each REGISTER (reg, its 1-based place in the arrays), the
-- rows junction_register() returns for it: together, one after another.
--
-- REGISTERs that share their AOR with another in the batch, or that list
-- a Contact (or an RFC 5626 instance and reg-id) twice, depend on the
-- order of their changes: they are handed to junction_register() one by
-- one, after the others. The others are independent of each other and are
-- decided and changed together.
CREATE FUNCTION junction_register_batch(
    r_aor text[], r_call_id text[], r_cseq bigint[],
    c_contact text[], c_expires integer[], c_q numeric[],
    c_instance text[], c_reg_id integer[],
    r_star boolean[], r_received text[], r_path text[], r_user_agent text[],
    r_node text[], r_max_contacts integer[], r_ncontacts integer[])
RETURNS TABLE (reg integer, status integer, contact text, q numeric, expires integer, path text)
LANGUAGE plpgsql
-- Planning these statements for each call cost more than running them:
-- their plans are made once per connection, when the table may still be
-- empty, and must not know how many REGISTERs a batch holds. So every
-- row of binding is reached through an index (no sequential scan: one
-- planned on an empty table would read 100,000 bindings for each batch
-- later), the OFFSET 0 fences keep each lookup a scan per AOR, and no JIT
-- (estimates as large as that guess would compile them, hundreds of
-- milliseconds, for a few rows).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
    nreg integer := coalesce(array_length(r_aor, 1), 0);
    reg_of integer[];    -- the REGISTER of each Contact
    one_by_one boolean[];
    st integer[];        -- the status of each REGISTER decided here
    change boolean[];    -- it is 200 and changes bindings (not a retransmission)
    any_removal boolean; -- some binding goes ("*", expires=0, an RFC 5626 flow)
    next_c integer := 1; -- where REGISTER i's Contacts start in the c_ arrays
    i integer;
BEGIN
    SELECT array_agg(g.i ORDER BY g.i) INTO reg_of
    FROM generate_series(1, nreg) AS g (i), generate_series(1, r_ncontacts[g.i]) AS n;

    -- Serialise REGISTERs per AOR across all nodes and workers; locks in
    -- one order, so two batches never wait for each other in a cycle.
    PERFORM pg_advisory_xact_lock(k.key)
    FROM (SELECT DISTINCT hashtextextended(a, 0) AS key FROM unnest(r_aor) AS a ORDER BY 1) k;

    -- The decision of §10.3 steps 6 and 7 and the contact limit for each
    -- REGISTER decided here, before anything changes: one pass over the
    -- Contacts, each looked up by AOR and Contact (the unique index).
    SELECT array_agg(NOT d.alone ORDER BY d.i),
           array_agg(d.status ORDER BY d.i),
           array_agg(d.status = 200 AND (d.star OR d.retrans IS NOT TRUE) ORDER BY d.i),
           coalesce(bool_or(d.status = 200 AND (d.star OR (d.removing AND d.retrans IS NOT TRUE))),
                    false)
    INTO one_by_one, st, change, any_removal
    FROM (
        SELECT r.i, r.alone, r.star, r.retrans, r.removing,
               CASE
                   WHEN NOT r.alone THEN NULL
                   WHEN r.star THEN
                       CASE WHEN EXISTS (SELECT 1 FROM binding b
                                         WHERE b.aor = r.aor AND b.call_id = r.call_id
                                           AND b.cseq >= r.cseq AND b.expires_at > now())
                            THEN 500 ELSE 200 END
                   WHEN r.out_of_order THEN 500
                   WHEN r.retrans THEN 200
                   WHEN r.adds > 0
                        AND (SELECT count(*) FROM binding b
                             WHERE b.aor = r.aor AND b.expires_at > now())
                            - r.removes + r.adds > r.max_contacts THEN 403
                   ELSE 200
               END AS status
        FROM (
            SELECT g.i, r_aor[g.i] AS aor, r_call_id[g.i] AS call_id, r_cseq[g.i] AS cseq,
                   r_star[g.i] AS star, r_max_contacts[g.i] AS max_contacts,
                   count(*) OVER (PARTITION BY r_aor[g.i]) = 1 AND x.twice IS NOT TRUE
                       AS alone,
                   x.out_of_order, x.retrans, coalesce(x.adds, 0) AS adds,
                   coalesce(x.removes, 0) AS removes, coalesce(x.removing, false) AS removing
            FROM generate_series(1, nreg) AS g (i)
            LEFT JOIN (
                -- per REGISTER, from its Contacts and the bindings they name
                SELECT reg_of[j] AS i,
                       bool_or(b.call_id = r_call_id[reg_of[j]] AND b.cseq > r_cseq[reg_of[j]])
                           AS out_of_order,
                       bool_or(b.call_id = r_call_id[reg_of[j]] AND b.cseq = r_cseq[reg_of[j]])
                           AS retrans,
                       count(*) FILTER (WHERE b.call_id IS NULL AND c_expires[j] > 0) AS adds,
                       count(*) FILTER (WHERE b.call_id IS NOT NULL AND c_expires[j] = 0)
                           AS removes,
                       bool_or(c_expires[j] = 0
                               OR (c_instance[j] IS NOT NULL AND c_reg_id[j] IS NOT NULL))
                           AS removing,
                       count(DISTINCT c_contact[j]) < count(*)
                       OR count(DISTINCT (c_instance[j], c_reg_id[j]))
                              FILTER (WHERE c_instance[j] IS NOT NULL AND c_reg_id[j] IS NOT NULL)
                          < count(*) FILTER (WHERE c_instance[j] IS NOT NULL
                                               AND c_reg_id[j] IS NOT NULL) AS twice
                FROM generate_series(1, coalesce(array_length(reg_of, 1), 0)) AS j
                LEFT JOIN LATERAL (
                    SELECT bb.call_id, bb.cseq FROM binding bb
                    WHERE bb.aor = r_aor[reg_of[j]] AND bb.contact = c_contact[j]
                      AND bb.expires_at > now()
                    OFFSET 0
                ) b ON true
                GROUP BY reg_of[j]
            ) x ON x.i = g.i
        ) r
    ) d;

    -- The changes, for the REGISTERs that have them: removals ("*", a
    -- Contact with expires=0, an older flow of the same RFC 5626 instance
    -- and reg-id), then the bindings added or refreshed. Rows found by
    -- index, removed by their address (a TID scan, whatever the plan).
    IF any_removal THEN
        DELETE FROM binding
        WHERE ctid = ANY (ARRAY(
            SELECT bb.ctid
            FROM generate_series(1, nreg) AS g (i),
                 LATERAL (SELECT b.ctid FROM binding b WHERE b.aor = r_aor[g.i] OFFSET 0) bb
            WHERE change[g.i] AND r_star[g.i]
            UNION ALL
            SELECT bb.ctid
            FROM generate_series(1, coalesce(array_length(reg_of, 1), 0)) AS j,
                 LATERAL (
                     SELECT b.ctid FROM binding b
                     WHERE b.aor = r_aor[reg_of[j]]
                       AND ((c_expires[j] = 0 AND b.contact = c_contact[j])
                            OR (c_expires[j] > 0 AND c_instance[j] IS NOT NULL
                                AND c_reg_id[j] IS NOT NULL AND b.instance = c_instance[j]
                                AND b.reg_id = c_reg_id[j] AND b.contact <> c_contact[j]))
                     OFFSET 0
                 ) bb
            WHERE change[reg_of[j]] AND NOT r_star[reg_of[j]]));
    END IF;

    INSERT INTO binding AS b (aor, contact, expires_at, q, call_id, cseq, received,
                              path, user_agent, instance, reg_id, node, updated_at)
    SELECT r_aor[reg_of[j]], c_contact[j], now() + make_interval(secs => c_expires[j]),
           c_q[j], r_call_id[reg_of[j]], r_cseq[reg_of[j]], r_received[reg_of[j]],
           r_path[reg_of[j]], r_user_agent[reg_of[j]], c_instance[j], c_reg_id[j],
           r_node[reg_of[j]], now()
    FROM generate_series(1, coalesce(array_length(reg_of, 1), 0)) AS j
    WHERE change[reg_of[j]] AND c_expires[j] > 0
    ON CONFLICT ON CONSTRAINT binding_aor_contact_key DO UPDATE
        SET expires_at = EXCLUDED.expires_at, q = EXCLUDED.q,
            call_id = EXCLUDED.call_id, cseq = EXCLUDED.cseq,
            received = EXCLUDED.received, path = EXCLUDED.path,
            user_agent = EXCLUDED.user_agent, instance = EXCLUDED.instance,
            reg_id = EXCLUDED.reg_id, node = EXCLUDED.node, updated_at = now();

    -- §10.3 step 8: the answer of each, with every current binding of its
    -- AOR on a 200 (one row with a NULL contact when there is none).
    RETURN QUERY
        SELECT g.i, st[g.i], b.contact, b.q, b.expires, b.path
        FROM generate_series(1, nreg) AS g (i)
        LEFT JOIN LATERAL (
            SELECT bb.contact, bb.q, bb.path, bb.updated_at,
                   greatest(1, ceil(extract(epoch FROM bb.expires_at - now())))::integer AS expires
            FROM binding bb
            WHERE bb.aor = r_aor[g.i] AND bb.expires_at > now()
              AND st[g.i] = 200 AND NOT r_star[g.i]
            OFFSET 0
        ) b ON true
        WHERE NOT one_by_one[g.i]
        ORDER BY g.i, b.q DESC, b.updated_at DESC;

    FOR i IN 1 .. nreg LOOP
        IF one_by_one[i] THEN
            RETURN QUERY
                SELECT i, f.*
                FROM junction_register(r_aor[i], r_call_id[i], r_cseq[i],
                    c_contact[next_c : next_c + r_ncontacts[i] - 1],
                    c_expires[next_c : next_c + r_ncontacts[i] - 1],
                    c_q[next_c : next_c + r_ncontacts[i] - 1],
                    c_instance[next_c : next_c + r_ncontacts[i] - 1],
                    c_reg_id[next_c : next_c + r_ncontacts[i] - 1],
                    r_star[i], r_received[i], r_path[i], r_user_agent[i],
                    r_node[i], r_max_contacts[i]) AS f;
        END IF;
        next_c := next_c + r_ncontacts[i];
    END LOOP;
END
$$;
