-- Junction schema 13: the dialog batch functions reach every row by its
-- key, whatever the statistics said when their plans were made.
--
-- A connection plans each statement of a PL/pgSQL function once and keeps
-- that generic plan. Plans made while the statistics said few sessions
-- were open, or dialog was empty (after a TRUNCATE, on a new database,
-- before autovacuum's first ANALYZE), stayed with the connection once
-- thousands of sessions were open and tens of thousands of dialogs kept:
--   - "WHERE s.id = ANY (touched) AND s.ended_at IS NULL" (the sessions a
--     batch touched), "s.ended_at IS NULL" in a join with session: the
--     planner read the whole partial index session_open, whose predicate
--     the condition matches, and filtered it by id, rather than probing
--     the primary key;
--   - the NOT EXISTS that asks whether an ended dialog was its session's
--     last: a sequential scan of dialog;
--   - junction_session_of_device(), a SQL function: parsed and planned
--     anew at every call of junction_dialog_begin().
-- Measured at 1,500 calls/s through two nodes, they made most of
-- PostgreSQL's 840 us a call.
--
-- So no statement here says "ended_at IS NULL" where the planner could
-- take it for an index (a session is found by its primary key and its
-- state read on the row), the functions plan with sequential scans
-- disabled (every statement reaches a few rows by an index), and
-- junction_session_of_device() is PL/pgSQL, one indexed look at a time.
-- They decide as schema 4's did.

-- What happens to dialogs: schema 4's function, the sessions touched
-- found by their primary key.
CREATE OR REPLACE FUNCTION junction_dialog_update(p_action text[], p_call_id text[], p_tag text[],
                                                  p_other text[], p_expires integer[])
RETURNS TABLE (op integer, changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    sid bigint;
    touched bigint[] := '{}';
    ended bigint[] := '{}';
BEGIN
    -- First the dialogs, in the order given (the nodes sort their batches
    -- by a hash of the Call-ID that every node computes alike), then their
    -- sessions, in id order (the primary key's): two nodes' batches lock
    -- rows in one order and do not deadlock.
    FOR i IN 1 .. coalesce(array_length(p_action, 1), 0) LOOP
        sid := NULL;
        IF p_action[i] = 'confirm' THEN
            UPDATE dialog d SET state = 'confirmed', to_tag = coalesce(d.to_tag, p_other[i]),
                   updated_at = now(), expires_at = now() + make_interval(secs => p_expires[i])
            WHERE d.call_id = p_call_id[i] AND d.from_tag = p_tag[i] AND d.state = 'early'
            RETURNING d.session_id INTO sid;
        ELSIF p_action[i] = 'touch' THEN
            UPDATE dialog d SET updated_at = now(),
                   expires_at = now() + make_interval(secs => p_expires[i])
            WHERE d.call_id = p_call_id[i] AND d.from_tag IN (p_tag[i], p_other[i])
                  AND d.state <> 'ended'
            RETURNING d.session_id INTO sid;
        ELSE
            UPDATE dialog d SET state = 'ended', ended_at = now(), updated_at = now()
            WHERE d.call_id = p_call_id[i] AND d.from_tag IN (p_tag[i], p_other[i])
                  AND d.state <> 'ended'
            RETURNING d.session_id INTO sid;
            IF sid IS NOT NULL THEN
                ended := ended || sid;
            END IF;
        END IF;
        IF sid IS NOT NULL THEN
            touched := touched || sid;
        END IF;
        RETURN QUERY SELECT i, sid IS NOT NULL;
    END LOOP;
    IF cardinality(touched) = 0 THEN
        RETURN;
    END IF;
    -- a session whose last dialog ended, ends; an ended one (none should
    -- be touched: a session ends only with its last dialog) is left as it
    -- was
    UPDATE session s
    SET last_activity = CASE WHEN s.ended_at IS NULL THEN now() ELSE s.last_activity END,
        ended_at = CASE WHEN s.ended_at IS NOT NULL THEN s.ended_at
                        WHEN s.id = ANY (ended) AND NOT EXISTS (
                            SELECT 1 FROM dialog d WHERE d.session_id = s.id
                                                   AND d.state <> 'ended')
                        THEN now() END
    WHERE s.id = ANY (touched);
END
$$;

-- A device's open session: the AORs in order, each only if a binding is
-- registered for it; the newest dialog up with it whose session is open.
CREATE OR REPLACE FUNCTION junction_session_of_device(p_aors text[]) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a text;
    sid bigint;
BEGIN
    FOREACH a IN ARRAY p_aors LOOP
        CONTINUE WHEN a IS NULL OR NOT EXISTS (
            SELECT 1 FROM binding b WHERE b.aor = a AND b.expires_at > now());
        SELECT d.session_id INTO sid FROM dialog d
        WHERE (d.caller_aor = a OR d.callee_aor = a)
              AND d.state <> 'ended' AND d.expires_at > now()
              AND (SELECT s.ended_at IS NULL FROM session s WHERE s.id = d.session_id)
        ORDER BY d.created_at DESC LIMIT 1;
        IF sid IS NOT NULL THEN
            RETURN sid;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Records new dialogs: schema 4's function, each session read by its key.
CREATE OR REPLACE FUNCTION junction_dialog_begin(
    p_call_id text[], p_from_tag text[], p_method text[],
    p_caller text[], p_callee text[],
    p_rel_call_id text[], p_rel_kind text[], p_referrer text[], p_device boolean[],
    p_controller text[], p_controller_rule boolean[], p_proposed text[],
    p_dead text[], p_node text[], p_expires integer[])
RETURNS TABLE (op integer, session_id bigint, sip_server text, relation text, moved_from bigint)
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    sid bigint;
    made bigint;
    srv text;
    rel text;
    moved bigint;
    gone boolean;
BEGIN
    -- A few statements per dialog, since this is the price of every call:
    -- one for the rules that apply, one to record it.
    FOR i IN 1 .. coalesce(array_length(p_call_id, 1), 0) LOOP
        sid := NULL;
        moved := NULL;
        rel := NULL;
        IF p_rel_call_id[i] IS NOT NULL THEN
            SELECT d.session_id INTO sid FROM dialog d
            WHERE d.call_id = p_rel_call_id[i]
                  AND (SELECT s.ended_at IS NULL FROM session s WHERE s.id = d.session_id)
            ORDER BY d.created_at DESC LIMIT 1;
            rel := p_rel_kind[i];
        END IF;
        IF sid IS NULL AND p_controller[i] IS NULL AND p_referrer[i] IS NOT NULL THEN
            sid := junction_session_of_device(ARRAY[p_referrer[i]]);
            rel := 'referred-by';
        END IF;
        IF sid IS NULL AND p_controller[i] IS NULL AND p_device[i]
           AND coalesce(p_caller[i], p_callee[i]) IS NOT NULL THEN
            sid := junction_session_of_device(ARRAY[p_caller[i], p_callee[i]]);
            rel := 'device';
        END IF;
        IF sid IS NULL AND p_controller[i] IS NOT NULL AND p_controller_rule[i]
           AND p_callee[i] IS NOT NULL THEN
            SELECT d.session_id INTO sid FROM dialog d
            WHERE (d.caller_aor = p_callee[i] OR d.callee_aor = p_callee[i])
                  AND d.state <> 'ended' AND d.expires_at > now()
                  AND (SELECT s.ended_at IS NULL
                              AND (s.sip_server = p_controller[i] OR s.sip_server IN (
                                  SELECT o.name FROM sip_server o JOIN sip_server c
                                  ON c.ha_pair = o.ha_pair WHERE c.name = p_controller[i]))
                       FROM session s WHERE s.id = d.session_id)
            ORDER BY d.created_at DESC LIMIT 1;
            rel := 'controller';
        END IF;
        IF sid IS NOT NULL THEN
            -- a share lock until commit: the session cannot end under the
            -- dialog joining it (junction_dialog_update() waits), while
            -- other dialogs may join it at once
            SELECT s.sip_server, s.ended_at IS NOT NULL INTO srv, gone FROM session s
            WHERE s.id = sid FOR SHARE;
            IF NOT FOUND OR gone THEN
                sid := NULL; -- it ended meanwhile
            ELSIF p_controller[i] IS NULL AND srv = ANY (p_dead) THEN
                moved := sid;
                sid := NULL;
            END IF;
        END IF;
        IF sid IS NOT NULL THEN
            INSERT INTO dialog (call_id, from_tag, session_id, method, state, relation,
                                caller_aor, callee_aor, node, expires_at)
            VALUES (p_call_id[i], p_from_tag[i], sid, p_method[i], 'early', rel, p_caller[i],
                    p_callee[i], p_node[i], now() + make_interval(secs => p_expires[i]))
            ON CONFLICT (call_id, from_tag) DO NOTHING
            RETURNING dialog.session_id INTO made;
        ELSE
            -- a new session and its first dialog, in one statement
            srv := coalesce(p_controller[i], p_proposed[i]);
            rel := CASE WHEN moved IS NULL THEN 'new' ELSE 'moved' END;
            WITH ns AS (
                INSERT INTO session (sip_server, created_by, moved_from)
                VALUES (srv, p_node[i], moved) RETURNING id
            ), nd AS (
                INSERT INTO dialog (call_id, from_tag, session_id, method, state, relation,
                                    caller_aor, callee_aor, node, expires_at)
                SELECT p_call_id[i], p_from_tag[i], ns.id, p_method[i], 'early', rel,
                       p_caller[i], p_callee[i], p_node[i],
                       now() + make_interval(secs => p_expires[i])
                FROM ns
                ON CONFLICT (call_id, from_tag) DO NOTHING
                RETURNING dialog.session_id
            )
            SELECT ns.id, nd.session_id INTO sid, made FROM ns LEFT JOIN nd ON true;
            IF made IS NULL THEN
                DELETE FROM session s WHERE s.id = sid; -- made for nothing: see below
            END IF;
        END IF;
        IF made IS NULL THEN
            -- the dialog was recorded already (a retransmission, a spiral,
            -- another node): that record stands
            SELECT d.session_id, d.relation, s.sip_server, s.moved_from
            INTO sid, rel, srv, moved
            FROM dialog d JOIN session s ON s.id = d.session_id
            WHERE d.call_id = p_call_id[i] AND d.from_tag = p_from_tag[i];
        END IF;
        RETURN QUERY SELECT i, sid, srv, rel, moved;
    END LOOP;
END
$$;

-- A plan these functions keep never scans a whole table: each statement
-- reaches a few rows by an index, however small the table was said to be.
-- And each is planned once a connection: left to choose, PostgreSQL
-- planned most of them again at every call (a custom plan, for parameters
-- that are array elements), 15% of its CPU in the calls' batches.
ALTER FUNCTION junction_dialog_update(text[], text[], text[], text[], integer[])
    SET enable_seqscan = off SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION junction_dialog_begin(text[], text[], text[], text[], text[], text[], text[],
                                     text[], boolean[], text[], boolean[], text[], text[], text[],
                                     integer[])
    SET enable_seqscan = off SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION junction_session_of_device(text[]) SET enable_seqscan = off SET plan_cache_mode = force_generic_plan;
