-- Junction schema 4: sessions and dialogs, so that every dialog of related
-- calls reaches one Session Controller whichever node it enters through.
--
-- A session is a set of related calls, served by one Session Controller;
-- each call has one or more dialogs. A node records a dialog (and, for a
-- new session, the session) before the request that creates it leaves,
-- so a node that dies at any moment after loses no affinity; any node
-- then finds a dialog's Session Controller here by its Call-ID. Nodes
-- send these writes in batches, many dialogs per statement, like
-- REGISTERs.

CREATE TABLE session (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the Session Controller (sip_server.name) that serves it; while that
    -- server is out of service its HA pair's other member does
    sip_server     text NOT NULL,
    created_by     text NOT NULL,           -- the node that created it
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_activity  timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,             -- its last dialog ended
    -- a session whose controller's pair was out of service when a new
    -- dialog came for it: that dialog started this one instead
    moved_from     bigint
)
WITH (fillfactor = 70); -- last_activity changes in place (HOT)
CREATE INDEX session_open ON session (sip_server) WHERE ended_at IS NULL;
CREATE INDEX session_ended ON session (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE dialog (
    call_id     text NOT NULL,
    from_tag    text NOT NULL,              -- the tag of the side that created it
    to_tag      text,                       -- the other side's, once answered
    session_id  bigint NOT NULL REFERENCES session (id) ON DELETE CASCADE,
    method      text NOT NULL,              -- INVITE, SUBSCRIBE or REFER
    state       text NOT NULL CHECK (state IN ('early', 'confirmed', 'ended')),
    -- why it is in its session: new, moved, replaces, join, target-dialog,
    -- referred-by, device, controller
    relation    text NOT NULL,
    caller_aor  text,                       -- 'sip:user@domain' of From
    callee_aor  text,                       -- of the Request-URI
    node        text NOT NULL,              -- the node it entered through
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,       -- forgotten after this (swept)
    ended_at    timestamptz,
    PRIMARY KEY (call_id, from_tag)
)
-- A dialog is updated twice or more (answered, ended, its expiry pushed
-- on) and no update touches an indexed column, so with room left on each
-- page PostgreSQL updates it in place (a HOT update, no index entry
-- written): hence no index on state or expires_at (the sweep scans), and
-- the AOR indexes take ended dialogs too.
WITH (fillfactor = 70);
CREATE INDEX dialog_session ON dialog (session_id);
CREATE INDEX dialog_caller ON dialog (caller_aor);
CREATE INDEX dialog_callee ON dialog (callee_aor);

CREATE VIEW active_sessions AS
    SELECT s.id AS session, s.sip_server, sv.ha_pair,
           (SELECT count(*) FROM dialog d WHERE d.session_id = s.id AND d.state <> 'ended')
               AS dialogs,
           s.created_at AS created, s.last_activity, s.created_by AS node, s.moved_from
    FROM session s LEFT JOIN sip_server sv ON sv.name = s.sip_server
    WHERE s.ended_at IS NULL;

-- Is aor a device: an address of record with a registered binding? Only
-- devices relate dialogs (a service number called by many does not).
CREATE FUNCTION junction_is_device(p_aor text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_aor IS NOT NULL
           AND EXISTS (SELECT 1 FROM binding b WHERE b.aor = p_aor AND b.expires_at > now())
$$;

-- The open session of a dialog up with aor, newest first.
CREATE FUNCTION junction_session_of_aor(p_aor text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT d.session_id FROM dialog d JOIN session s ON s.id = d.session_id
    WHERE (d.caller_aor = p_aor OR d.callee_aor = p_aor) AND d.state <> 'ended'
          AND d.expires_at > now() AND s.ended_at IS NULL
    ORDER BY d.created_at DESC LIMIT 1
$$;

-- The open session of a dialog up with the first of p_aors that is a
-- device (in their order), newest first: junction_is_device() and
-- junction_session_of_aor() in one statement.
CREATE FUNCTION junction_session_of_device(p_aors text[]) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT d.session_id
    FROM unnest(p_aors) WITH ORDINALITY AS x(aor, k)
    JOIN dialog d ON (d.caller_aor = x.aor OR d.callee_aor = x.aor)
                     AND d.state <> 'ended' AND d.expires_at > now()
    JOIN session s ON s.id = d.session_id AND s.ended_at IS NULL
    WHERE EXISTS (SELECT 1 FROM binding b WHERE b.aor = x.aor AND b.expires_at > now())
    ORDER BY x.k, d.created_at DESC LIMIT 1
$$;

-- Records new dialogs, one per array element, each in the session the
-- rules relate it to (junction(8), "Session affinity"), in this order:
--   1. the dialog is known (a retransmission, a spiral, another node): its
--      own session (found when its INSERT conflicts);
--   2. p_rel_call_id (Replaces, Join, Target-Dialog; p_rel_kind says
--      which): the open session of a dialog of that Call-ID;
--   3. p_referrer (Referred-By): the open session of a dialog up with that
--      device;
--   4. p_device: the open session of a dialog up with the caller's, else
--      the callee's device;
--   5. p_controller (the Session Controller that sends the request; 3 and 4
--      are an endpoint's rules): that controller's (or its pair's) open
--      session with a dialog up with the callee's device
--      (p_controller_rule), else a new session of its own;
--   6. a new session on p_proposed (the node's pick by the pool rules).
-- A related session whose controller is in p_dead (its pair has no member
-- in service) is left: the dialog starts a new session on p_proposed,
-- whose moved_from names the old one. Rows: the element's ordinal, the
-- session, its controller, the relation, and the session moved from.
CREATE FUNCTION junction_dialog_begin(
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
BEGIN
    -- A few statements per dialog, since this is the price of every call:
    -- one for the rules that apply, one to record it.
    FOR i IN 1 .. coalesce(array_length(p_call_id, 1), 0) LOOP
        sid := NULL;
        moved := NULL;
        rel := NULL;
        IF p_rel_call_id[i] IS NOT NULL THEN
            SELECT d.session_id INTO sid FROM dialog d JOIN session s ON s.id = d.session_id
            WHERE d.call_id = p_rel_call_id[i] AND s.ended_at IS NULL
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
            SELECT d.session_id INTO sid FROM dialog d JOIN session s ON s.id = d.session_id
            WHERE (d.caller_aor = p_callee[i] OR d.callee_aor = p_callee[i])
                  AND d.state <> 'ended' AND d.expires_at > now() AND s.ended_at IS NULL
                  AND (s.sip_server = p_controller[i] OR s.sip_server IN (
                      SELECT o.name FROM sip_server o JOIN sip_server c
                      ON c.ha_pair = o.ha_pair WHERE c.name = p_controller[i]))
            ORDER BY d.created_at DESC LIMIT 1;
            rel := 'controller';
        END IF;
        IF sid IS NOT NULL THEN
            -- a share lock until commit: the session cannot end under the
            -- dialog joining it (junction_dialog_update() waits), while
            -- other dialogs may join it at once
            SELECT s.sip_server INTO srv FROM session s
            WHERE s.id = sid AND s.ended_at IS NULL FOR SHARE;
            IF NOT FOUND THEN
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

-- What happens to dialogs, one per array element (p_action):
--   confirm: answered 2xx (p_tag is the From tag, p_other the To tag);
--   touch:   an in-dialog request passed: it lives p_expires seconds more;
--   end:     a BYE passed (p_tag and p_other are the two tags, in either
--            order) or it failed; a session whose last dialog ends, ends.
-- Rows: the element's ordinal and whether a dialog changed.
CREATE FUNCTION junction_dialog_update(p_action text[], p_call_id text[], p_tag text[],
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
    -- sessions, in id order: two nodes' batches lock rows in one order and
    -- do not deadlock.
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
    -- a session whose last dialog ended, ends
    UPDATE session s SET last_activity = now(),
           ended_at = CASE WHEN s.id = ANY (ended) AND NOT EXISTS (
               SELECT 1 FROM dialog d WHERE d.session_id = s.id AND d.state <> 'ended')
               THEN now() END
    WHERE s.id = ANY (touched) AND s.ended_at IS NULL;
END
$$;

-- The sweep, by one node at a time (the others find the lock taken and
-- skip): dialogs past their expiry end, sessions left without a dialog
-- end, and sessions ended more than p_keep seconds ago go, with their
-- dialogs, at most p_batch of each. Returns the dialogs expired and the
-- sessions deleted (the caller calls again while either reaches p_batch),
-- or -1 and -1 when another node sweeps.
CREATE FUNCTION junction_session_sweep(p_batch integer, p_keep integer)
RETURNS TABLE (expired integer, deleted integer) LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    d integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('junction_session_sweep', 0)) THEN
        RETURN QUERY SELECT -1, -1;
        RETURN;
    END IF;
    WITH victims AS (
        SELECT call_id, from_tag FROM dialog
        WHERE state <> 'ended' AND expires_at <= now()
        ORDER BY expires_at LIMIT p_batch
    ), gone AS (
        UPDATE dialog d SET state = 'ended', ended_at = now(), updated_at = now()
        FROM victims v WHERE d.call_id = v.call_id AND d.from_tag = v.from_tag
        RETURNING d.session_id
    ), ended AS (
        UPDATE session s SET ended_at = now()
        WHERE s.id IN (SELECT session_id FROM gone) AND s.ended_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM dialog d WHERE d.session_id = s.id
                              AND d.state <> 'ended'
                              AND (d.call_id, d.from_tag) NOT IN (SELECT call_id, from_tag
                                                                  FROM victims))
        RETURNING 1
    )
    SELECT count(*)::integer INTO n FROM gone;
    DELETE FROM session s
    WHERE s.id IN (SELECT id FROM session WHERE ended_at < now() - make_interval(secs => p_keep)
                   ORDER BY ended_at LIMIT p_batch);
    GET DIAGNOSTICS d = ROW_COUNT;
    RETURN QUERY SELECT n, d;
END
$$;

-- Sessions and dialogs open per Session Controller, which each node
-- weighs its choice of server by (the whole cluster's, not one node's).
CREATE FUNCTION junction_session_counts()
RETURNS TABLE (sip_server text, sessions bigint, dialogs bigint) LANGUAGE sql STABLE AS $$
    SELECT s.sip_server, count(DISTINCT s.id),
           count(d.session_id) FILTER (WHERE d.state <> 'ended')
    FROM session s LEFT JOIN dialog d ON d.session_id = s.id
    WHERE s.ended_at IS NULL GROUP BY 1
$$;
