-- Junction schema 6: registration events for the back end ([notify]).
--
-- When a binding is created, refreshed, shortened, removed or expires,
-- the back end hears of it (a 3rd-party REGISTER or an RFC 3680 reginfo
-- NOTIFY) exactly once per cluster, also when a node dies: the event is a
-- row of reg_event written by a trigger in the same transaction as the
-- change of the binding (an outbox), and one node at a time sends it
-- (junction_reg_event_claim(): FOR UPDATE SKIP LOCKED, with a lease that
-- another node takes over when the sender dies before it reports).
--
-- The same events go to the subscribers of the registration event
-- package (RFC 3680 §3): reg_subscription holds each subscription's
-- dialog, and an event becomes one row per destination (the [notify]
-- target, and each active subscription of the AOR). A subscription's
-- NOTIFYs are sent by the worker that owns its Call-ID on the node that
-- took its last SUBSCRIBE (node, worker), so that the answers reach that
-- worker's transactions.

-- Whether events are recorded (and refreshes among them), and whether
-- subscriptions are taken: the nodes write their [notify] settings here
-- when they connect (junction_reg_event_setup()). With both off, the
-- triggers on binding are disabled, so a cluster without events pays
-- nothing for them (their transition tables cost a refresh batch about a
-- tenth of its time even when they find nothing to do).
CREATE TABLE reg_event_setting (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    mode       text NOT NULL DEFAULT 'off' CHECK (mode IN ('off', 'register', 'reginfo')),
    refresh    boolean NOT NULL DEFAULT false,
    subscribe  boolean NOT NULL DEFAULT false
);
INSERT INTO reg_event_setting DEFAULT VALUES;

CREATE TABLE reg_subscription (
    id          bigserial PRIMARY KEY,
    aor         text NOT NULL,           -- what it watches
    call_id     text NOT NULL,           -- its dialog (RFC 3261 §12)
    remote_tag  text NOT NULL,           -- the subscriber's From tag
    local_tag   text NOT NULL,           -- ours, in the 200's To
    remote_uri  text NOT NULL,           -- the subscriber's From URI: our NOTIFYs' To
    target      text NOT NULL,           -- its Contact: our NOTIFYs' Request-URI
    route_set   text,                    -- its Record-Route, as received: our Route
    source      text,                    -- where its SUBSCRIBE came from
    expires_at  timestamptz NOT NULL,
    cseq        bigint NOT NULL DEFAULT 0,   -- of our last NOTIFY
    version     bigint NOT NULL DEFAULT -1,  -- of our last document (§5.2: from 0)
    node        text NOT NULL,           -- who sends its NOTIFYs
    worker      integer NOT NULL,
    state       text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'terminated')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (call_id, remote_tag)
);
CREATE INDEX reg_subscription_aor ON reg_subscription (aor) WHERE state = 'active';

CREATE TABLE reg_event (
    id            bigserial PRIMARY KEY,
    aor           text NOT NULL,
    contact       text NOT NULL,
    -- RFC 3680 §5.3's contact events
    -- RFC 3680 §5.3's contact events; for a subscription also
    -- 'subscribed' (the NOTIFY a SUBSCRIBE asks for, full state, no
    -- contact of its own) and 'terminated' (its last, RFC 6665 §4.2.2)
    event         text NOT NULL CHECK (event IN ('registered', 'created', 'refreshed',
                                                 'shortened', 'expired', 'deactivated',
                                                 'unregistered', 'subscribed', 'terminated')),
    -- NULL: the [notify] target; else that subscription's
    subscription_id bigint REFERENCES reg_subscription (id) ON DELETE CASCADE,
    expires       integer NOT NULL,      -- seconds left then; 0: the binding ended
    binding_id    bigint NOT NULL,       -- the contact's id in reginfo
    call_id       text,
    cseq          bigint,
    q             numeric(4,3),
    path          text,
    received      text,
    node          text NOT NULL,         -- the node whose change it was
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- delivery: pending, sending (claimed_by until next_try), failed
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    next_try      timestamptz NOT NULL DEFAULT now(),
    claimed_by    text,
    last_error    text
);
CREATE INDEX reg_event_due ON reg_event (next_try) WHERE state <> 'failed';
CREATE INDEX reg_event_aor ON reg_event (aor, id) WHERE state <> 'failed';

-- The reginfo version of each AOR (RFC 3680 §5.2: one more with each
-- document sent about it).
CREATE TABLE reg_event_version (
    aor      text PRIMARY KEY,
    version  bigint NOT NULL
);

-- What operators query: events not yet delivered, oldest first.
CREATE VIEW pending_reg_events AS
    SELECT id, aor, contact, event, expires, node, created_at, state, attempts,
           next_try, claimed_by, last_error, subscription_id
    FROM reg_event
    ORDER BY id;

-- The triggers, per statement (a batch of REGISTERs is one statement):
-- an insert is "registered"; an update "shortened" when the expiry moved
-- earlier, "registered" when the row had expired and not been swept yet,
-- and "refreshed" when the contact's route changed (received, path, q) or
-- refresh events are asked for; a delete "expired" when the binding had
-- expired (the sweeper), else the transaction's junction.reg_cause
-- ("deactivated" for the admin API and subscriber removal), else
-- "unregistered" (the UA's REGISTER). Each event becomes a row for each
-- destination (junction_reg_event_dests()).

-- Where an event of p_aor goes: the [notify] target (NULL) when target,
-- and each active subscription of the AOR.
CREATE FUNCTION junction_reg_event_dests(p_aor text, p_target boolean)
RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT NULL::bigint WHERE p_target
    UNION ALL
    SELECT s.id FROM reg_subscription s WHERE s.aor = p_aor AND s.state = 'active'
$$;

-- Is anybody to hear of binding changes? Costs a lookup when nobody is.
CREATE FUNCTION junction_reg_event_wanted(OUT target boolean, OUT refresh boolean,
                                          OUT wanted boolean)
LANGUAGE sql STABLE AS $$
    -- a 3rd-party registration lapses unless refreshed like any other:
    -- register mode sends every refresh
    SELECT s.mode <> 'off', s.refresh OR s.mode = 'register',
           s.mode <> 'off' OR EXISTS (SELECT 1 FROM reg_subscription WHERE state = 'active')
    FROM reg_event_setting s
$$;

CREATE FUNCTION junction_reg_event_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w record := junction_reg_event_wanted();
BEGIN
    IF NOT w.wanted THEN
        RETURN NULL;
    END IF;
    INSERT INTO reg_event (aor, contact, event, expires, binding_id, call_id, cseq, q,
                           path, received, node, subscription_id)
    SELECT n.aor, n.contact, 'registered',
           greatest(0, ceil(extract(epoch FROM n.expires_at - now())))::integer,
           n.id, n.call_id, n.cseq, n.q, n.path, n.received, n.node, d.sub
    FROM new_rows n CROSS JOIN LATERAL junction_reg_event_dests(n.aor, w.target) AS d (sub)
    ORDER BY n.aor, n.contact;
    RETURN NULL;
END
$$;

CREATE FUNCTION junction_reg_event_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w record := junction_reg_event_wanted();
BEGIN
    IF NOT w.wanted THEN
        RETURN NULL;
    END IF;
    INSERT INTO reg_event (aor, contact, event, expires, binding_id, call_id, cseq, q,
                           path, received, node, subscription_id)
    SELECT x.aor, x.contact, x.event,
           greatest(0, ceil(extract(epoch FROM x.expires_at - now())))::integer,
           x.id, x.call_id, x.cseq, x.q, x.path, x.received, x.node, d.sub
    FROM (
        SELECT n.*,
               CASE
                   WHEN o.expires_at <= now() THEN 'registered'
                   WHEN n.expires_at < o.expires_at THEN 'shortened'
                   ELSE 'refreshed'
               END AS event,
               o.expires_at <= now() OR n.expires_at < o.expires_at
               OR (n.received, n.path, n.q) IS DISTINCT FROM (o.received, o.path, o.q)
               OR w.refresh AS wanted
        FROM new_rows n JOIN old_rows o ON o.id = n.id
    ) x CROSS JOIN LATERAL junction_reg_event_dests(x.aor, w.target) AS d (sub)
    WHERE x.wanted
    ORDER BY x.aor, x.contact;
    RETURN NULL;
END
$$;

CREATE FUNCTION junction_reg_event_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w record := junction_reg_event_wanted();
BEGIN
    IF NOT w.wanted THEN
        RETURN NULL;
    END IF;
    INSERT INTO reg_event (aor, contact, event, expires, binding_id, call_id, cseq, q,
                           path, received, node, subscription_id)
    SELECT o.aor, o.contact,
           CASE WHEN o.expires_at <= now() THEN 'expired'
                ELSE coalesce(nullif(current_setting('junction.reg_cause', true), ''),
                              'unregistered')
           END,
           0, o.id, o.call_id, o.cseq, o.q, o.path, o.received, o.node, d.sub
    FROM old_rows o CROSS JOIN LATERAL junction_reg_event_dests(o.aor, w.target) AS d (sub)
    ORDER BY o.aor, o.contact;
    RETURN NULL;
END
$$;

CREATE TRIGGER binding_reg_event_insert AFTER INSERT ON binding
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION junction_reg_event_added();
CREATE TRIGGER binding_reg_event_update AFTER UPDATE ON binding
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION junction_reg_event_changed();
CREATE TRIGGER binding_reg_event_delete AFTER DELETE ON binding
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION junction_reg_event_removed();
ALTER TABLE binding DISABLE TRIGGER binding_reg_event_insert;
ALTER TABLE binding DISABLE TRIGGER binding_reg_event_update;
ALTER TABLE binding DISABLE TRIGGER binding_reg_event_delete;

-- A node's [notify] settings (mode, refresh, subscribe = yes): written
-- when they differ, and the triggers enabled or disabled to match (ALTER
-- TABLE waits for the binding writes in flight, a few milliseconds, and
-- happens only on a change).
CREATE FUNCTION junction_reg_event_setup(p_mode text, p_refresh boolean, p_subscribe boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    want boolean := p_mode <> 'off' OR p_subscribe;
BEGIN
    UPDATE reg_event_setting SET mode = p_mode, refresh = p_refresh, subscribe = p_subscribe
    WHERE (mode, refresh, subscribe) IS DISTINCT FROM (p_mode, p_refresh, p_subscribe);
    IF EXISTS (SELECT 1 FROM pg_trigger
               WHERE tgrelid = 'binding'::regclass AND tgname = 'binding_reg_event_insert'
                 AND (tgenabled <> 'D') IS DISTINCT FROM want) THEN
        IF want THEN
            ALTER TABLE binding ENABLE TRIGGER binding_reg_event_insert;
            ALTER TABLE binding ENABLE TRIGGER binding_reg_event_update;
            ALTER TABLE binding ENABLE TRIGGER binding_reg_event_delete;
        ELSE
            ALTER TABLE binding DISABLE TRIGGER binding_reg_event_insert;
            ALTER TABLE binding DISABLE TRIGGER binding_reg_event_update;
            ALTER TABLE binding DISABLE TRIGGER binding_reg_event_delete;
        END IF;
    END IF;
END
$$;

-- A SUBSCRIBE to the registration events of p_aor (RFC 3680 §3, RFC 6665
-- §4.2.1): a new subscription (p_initial), or a refresh or an end
-- (p_expires 0) of the one its dialog names. It is now this node's and
-- worker's to notify, and a NOTIFY of the whole state is due
-- ('subscribed', or 'terminated' for an end). Returns 200, or 481 when
-- the dialog names no subscription.
CREATE FUNCTION junction_reg_subscribe(p_aor text, p_call_id text, p_remote_tag text,
                                       p_local_tag text, p_remote_uri text, p_target text,
                                       p_route_set text, p_source text, p_expires integer,
                                       p_node text, p_worker integer, p_initial boolean)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    sid bigint;
BEGIN
    IF p_initial THEN
        INSERT INTO reg_subscription AS s (aor, call_id, remote_tag, local_tag, remote_uri,
                                           target, route_set, source, expires_at, node,
                                           worker)
        VALUES (p_aor, p_call_id, p_remote_tag, p_local_tag, p_remote_uri, p_target,
                p_route_set, p_source, now() + make_interval(secs => p_expires), p_node,
                p_worker)
        ON CONFLICT (call_id, remote_tag) DO UPDATE
            SET expires_at = EXCLUDED.expires_at, target = EXCLUDED.target,
                source = EXCLUDED.source, node = EXCLUDED.node, worker = EXCLUDED.worker,
                state = 'active'
        RETURNING s.id INTO sid;
    ELSE
        UPDATE reg_subscription s
        SET expires_at = now() + make_interval(secs => p_expires), target = p_target,
            source = p_source, node = p_node, worker = p_worker
        WHERE s.call_id = p_call_id AND s.remote_tag = p_remote_tag
          AND s.local_tag = p_local_tag AND s.aor = p_aor AND s.state = 'active'
        RETURNING s.id INTO sid;
        IF sid IS NULL THEN
            RETURN 481;
        END IF;
    END IF;
    IF p_expires = 0 THEN
        UPDATE reg_subscription SET state = 'terminated' WHERE id = sid;
    END IF;
    INSERT INTO reg_event (aor, contact, event, expires, binding_id, node, subscription_id)
    VALUES (p_aor, '', CASE WHEN p_expires = 0 THEN 'terminated' ELSE 'subscribed' END,
            p_expires, 0, p_node, sid);
    RETURN 200;
END
$$;

-- A subscriber removed takes its bindings with it: "deactivated".
CREATE OR REPLACE FUNCTION junction_del_subscriber(p_username text, p_domain text)
RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('junction.reg_cause', 'deactivated', true);
    WITH gone AS (
        DELETE FROM subscriber WHERE username = p_username AND domain = lower(p_domain)
        RETURNING 1
    ), unbound AS (
        DELETE FROM binding WHERE aor = 'sip:' || p_username || '@' || lower(p_domain)
    )
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

-- The sweeper: one node at a time (the others find the lock taken and
-- leave it), so expiries are swept, and their events written, once.
CREATE OR REPLACE FUNCTION junction_sweep_expired(p_batch integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('junction_sweep_expired', 0)) THEN
        RETURN 0;
    END IF;
    WITH victims AS (
        SELECT id FROM binding WHERE expires_at <= now()
        ORDER BY expires_at LIMIT p_batch
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM binding WHERE id IN (SELECT id FROM victims) RETURNING 1
    )
    SELECT count(*)::integer INTO n FROM gone;
    -- subscriptions that ran out get their last NOTIFY (RFC 6665 §4.2.2)
    WITH ended AS (
        UPDATE reg_subscription SET state = 'terminated'
        WHERE state = 'active' AND expires_at <= now()
        RETURNING id, aor, node
    )
    INSERT INTO reg_event (aor, contact, event, expires, binding_id, node, subscription_id)
    SELECT aor, '', 'terminated', 0, 0, node, id FROM ended;
    -- ended subscriptions with nothing left to send, or whose last
    -- NOTIFY nobody could send for an hour (their node is gone): with
    -- their events
    DELETE FROM reg_subscription s
    WHERE s.state = 'terminated'
      AND (s.expires_at < now() - interval '1 hour'
           OR NOT EXISTS (SELECT 1 FROM reg_event e
                          WHERE e.subscription_id = s.id AND e.state <> 'failed'));
    -- events refused for good are kept a week for operators to read
    DELETE FROM reg_event WHERE state = 'failed' AND created_at < now() - interval '7 days';
    RETURN n;
END
$$;

-- A sender's share: up to p_max due events, the oldest undelivered one of
-- each AOR and destination only (a destination hears an AOR's events in
-- order), leased to p_node for p_lease seconds (past that, another node may
-- take them: the sender died). Worker p_worker of p_node takes the events
-- of the subscriptions it owns, and those for the [notify] target when
-- p_target. Each comes with the reginfo version (the AOR's for the
-- target, the subscription's for a subscriber), the AOR's active bindings
-- (JSON: id, contact, expires, q, call_id, cseq) for a full-state
-- document, and the subscription's dialog.
CREATE FUNCTION junction_reg_event_claim(p_node text, p_worker integer, p_target boolean,
                                         p_max integer, p_lease integer)
RETURNS TABLE (id bigint, aor text, contact text, event text, expires integer,
               binding_id bigint, call_id text, cseq bigint, q numeric, path text,
               received text, attempts integer, version bigint, bindings text,
               subscription_id bigint, sub_call_id text, sub_local_tag text,
               sub_remote_tag text, sub_remote_uri text, sub_target text,
               sub_route_set text, sub_cseq bigint, sub_expires integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT e.id FROM reg_event e
        WHERE e.state <> 'failed' AND e.next_try <= now()
          AND ((e.subscription_id IS NULL AND p_target)
               OR e.subscription_id IN (SELECT s.id FROM reg_subscription s
                                        WHERE s.node = p_node AND s.worker = p_worker))
          AND NOT EXISTS (SELECT 1 FROM reg_event p
                          WHERE p.aor = e.aor AND p.id < e.id AND p.state <> 'failed'
                            AND p.subscription_id IS NOT DISTINCT FROM e.subscription_id)
        ORDER BY e.id
        LIMIT p_max
        FOR UPDATE SKIP LOCKED
    ), taken AS (
        UPDATE reg_event e
        SET state = 'sending', claimed_by = p_node, attempts = e.attempts + 1,
            next_try = now() + make_interval(secs => p_lease)
        FROM due WHERE e.id = due.id
        RETURNING e.*
    ), versions AS (
        INSERT INTO reg_event_version AS v (aor, version)
        SELECT DISTINCT t.aor, 0 FROM taken t WHERE t.subscription_id IS NULL
        ON CONFLICT ON CONSTRAINT reg_event_version_pkey DO UPDATE SET version = v.version + 1
        RETURNING v.aor, v.version
    ), subs AS (
        UPDATE reg_subscription s SET cseq = s.cseq + 1, version = s.version + 1
        FROM taken t WHERE s.id = t.subscription_id
        RETURNING s.*
    )
    -- the seconds left now, not when the change was made
    SELECT t.id, t.aor, t.contact, t.event,
           CASE WHEN t.expires = 0 THEN 0
                ELSE greatest(1, t.expires - floor(extract(epoch FROM now() - t.created_at)))::integer
           END,
           t.binding_id, t.call_id, t.cseq,
           t.q, t.path, t.received, t.attempts, coalesce(sb.version, ver.version),
           (SELECT coalesce(json_agg(json_build_object(
                        'id', b.id, 'contact', b.contact,
                        'expires', greatest(1, ceil(extract(epoch FROM b.expires_at - now())))::integer,
                        'q', b.q, 'call_id', b.call_id, 'cseq', b.cseq) ORDER BY b.id), '[]')::text
            FROM binding b WHERE b.aor = t.aor AND b.expires_at > now()),
           t.subscription_id, sb.call_id, sb.local_tag, sb.remote_tag, sb.remote_uri,
           sb.target, sb.route_set, sb.cseq,
           greatest(0, ceil(extract(epoch FROM sb.expires_at - now())))::integer
    FROM taken t
    LEFT JOIN versions ver ON ver.aor = t.aor AND t.subscription_id IS NULL
    LEFT JOIN subs sb ON sb.id = t.subscription_id
    ORDER BY t.id;
END
$$;

-- The outcome of each event a sender claimed: 'sent' (a 2xx: gone),
-- 'retry' (5xx, timeout: again after 2^attempts seconds, at most
-- p_retry_max, until p_give_up seconds after the event), 'failed'
-- (refused for good: kept for operators, no longer blocking its AOR) or
-- 'gone' (481 to a subscription's NOTIFY: the subscriber has forgotten
-- it, RFC 6665 §4.2.2, so it ends with its events). A subscription whose
-- 'terminated' NOTIFY is settled ends too.
-- Only the claim reported on counts: the event still 'sending', claimed
-- by p_node in the attempt it reports (a report that comes after the lease
-- ran out and someone claimed the event again changes nothing).
CREATE FUNCTION junction_reg_event_done(p_node text, p_ids bigint[], p_attempts integer[],
                                        p_outcomes text[], p_errors text[],
                                        p_retry_max integer, p_give_up integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reg_subscription s
    USING reg_event e,
          unnest(p_ids, p_attempts, p_outcomes) AS d (id, attempts, outcome)
    WHERE e.id = d.id AND e.state = 'sending' AND e.claimed_by = p_node
      AND e.attempts = d.attempts AND s.id = e.subscription_id
      AND (d.outcome = 'gone' OR (e.event = 'terminated' AND d.outcome IN ('sent', 'failed')));
    DELETE FROM reg_event e
    USING unnest(p_ids, p_attempts, p_outcomes) AS d (id, attempts, outcome)
    WHERE e.id = d.id AND e.state = 'sending' AND e.claimed_by = p_node
      AND e.attempts = d.attempts AND d.outcome = 'sent';
    UPDATE reg_event e
    SET state = CASE WHEN d.outcome = 'failed'
                       OR e.created_at < now() - make_interval(secs => p_give_up)
                     THEN 'failed' ELSE 'pending' END,
        next_try = now() + make_interval(secs => least(p_retry_max, 2 ^ least(e.attempts, 20))),
        claimed_by = NULL,
        last_error = d.error
    FROM unnest(p_ids, p_attempts, p_outcomes, p_errors) AS d (id, attempts, outcome, error)
    WHERE e.id = d.id AND e.state = 'sending' AND e.claimed_by = p_node
      AND e.attempts = d.attempts AND d.outcome IN ('retry', 'failed');
END
$$;
