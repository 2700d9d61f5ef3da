-- Junction schema 1: subscribers and registration bindings.
--
-- Operators provision with the functions below and query bindings in
-- plain SQL (the active_bindings view). Junction itself writes bindings
-- only through junction_register(), so every REGISTER's decision (RFC 3261
-- §10.3 steps 6-8) is taken in one statement under a lock on the AOR,
-- whichever node the REGISTER entered through.

CREATE TABLE subscriber (
    id          bigserial PRIMARY KEY,
    username    text NOT NULL,
    domain      text NOT NULL,
    -- HA1 = H(username:realm:password) with realm = domain (RFC 7616 §3.4.2)
    ha1_md5     text NOT NULL,
    ha1_sha256  text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (username, domain)
);

CREATE TABLE binding (
    id          bigserial PRIMARY KEY,
    aor         text NOT NULL,          -- 'sip:alice@example.com'
    contact     text NOT NULL,          -- the Contact URI as registered
    expires_at  timestamptz NOT NULL,
    q           numeric(4,3) NOT NULL DEFAULT 1.0,
    call_id     text NOT NULL,
    cseq        bigint NOT NULL,
    received    text,                   -- where the REGISTER came from: 'udp:192.0.2.1:5060'
    path        text,                   -- Path header values, comma separated (RFC 3327)
    user_agent  text,
    instance    text,                   -- +sip.instance (RFC 5626)
    reg_id      integer,                -- reg-id (RFC 5626)
    node        text NOT NULL,          -- the Junction node that wrote the row
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (aor, contact)
)
-- Most REGISTERs refresh a binding: only columns outside every index
-- change, so with room left on each page PostgreSQL updates the row in
-- place (a HOT update, no index entry written). Hence no index on
-- expires_at either: the sweeper scans.
WITH (fillfactor = 70);

-- What operators query: bindings that have not expired. Expired rows are
-- never used for routing and are swept away in batches.
CREATE VIEW active_bindings AS
    SELECT aor, contact, expires_at, q, received, user_agent, node,
           path, instance, reg_id, call_id, cseq, updated_at
    FROM binding
    WHERE expires_at > now();

-- Provisioning. The password is hashed here and never stored.
CREATE FUNCTION junction_ha1(p_user text, p_realm text, p_password text, p_alg text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE p_alg
        WHEN 'md5' THEN md5(p_user || ':' || p_realm || ':' || p_password)
        ELSE encode(sha256(convert_to(p_user || ':' || p_realm || ':' || p_password, 'UTF8')), 'hex')
    END
$$;

CREATE FUNCTION junction_add_subscriber(p_username text, p_domain text, p_password text,
                                        p_enabled boolean DEFAULT true)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO subscriber (username, domain, ha1_md5, ha1_sha256, enabled)
    VALUES (p_username, lower(p_domain),
            junction_ha1(p_username, lower(p_domain), p_password, 'md5'),
            junction_ha1(p_username, lower(p_domain), p_password, 'sha256'),
            p_enabled)
    RETURNING id
$$;

CREATE FUNCTION junction_set_password(p_username text, p_domain text, p_password text)
RETURNS boolean LANGUAGE sql AS $$
    UPDATE subscriber
    SET ha1_md5 = junction_ha1(username, domain, p_password, 'md5'),
        ha1_sha256 = junction_ha1(username, domain, p_password, 'sha256'),
        updated_at = now()
    WHERE username = p_username AND domain = lower(p_domain)
    RETURNING true
$$;

CREATE FUNCTION junction_del_subscriber(p_username text, p_domain text)
RETURNS boolean LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM subscriber WHERE username = p_username AND domain = lower(p_domain)
        RETURNING 1
    ), unbound AS (
        DELETE FROM binding WHERE aor = 'sip:' || p_username || '@' || lower(p_domain)
    )
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

-- Nodes cache subscribers; tell them when one changes (LISTEN junction_subscriber).
CREATE FUNCTION junction_subscriber_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('junction_subscriber', OLD.username || '@' || OLD.domain);
    ELSE
        PERFORM pg_notify('junction_subscriber', NEW.username || '@' || NEW.domain);
        IF TG_OP = 'UPDATE' AND (OLD.username, OLD.domain) IS DISTINCT FROM (NEW.username, NEW.domain) THEN
            PERFORM pg_notify('junction_subscriber', OLD.username || '@' || OLD.domain);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER subscriber_notify AFTER INSERT OR UPDATE OR DELETE ON subscriber
    FOR EACH ROW EXECUTE FUNCTION junction_subscriber_notify();

-- One REGISTER (RFC 3261 §10.3 steps 6-8), atomically for its AOR.
--
-- p_contacts/p_expires/p_q/p_instance/p_reg_id are parallel arrays, one
-- entry per Contact; an expires of 0 removes. p_star is the "*" Contact
-- (remove all; the caller has checked Expires: 0). Returns the status
-- (200; 500 for an out-of-order CSeq, §10.3 step 7; 403 when the result
-- would exceed p_max_contacts: a refusal the UA should not retry, unlike
-- the 503 some registrars send) and, on 200, every current binding with its
-- remaining lifetime, for the 200 OK (§10.3 step 8). Nothing is changed
-- unless the status is 200.
CREATE FUNCTION junction_register(
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
        SELECT 200, b.contact, b.q,
               greatest(1, ceil(extract(epoch FROM b.expires_at - now())))::integer, b.path
        FROM binding b
        WHERE b.aor = p_aor AND b.expires_at > now()
        ORDER BY b.q DESC, b.updated_at DESC;
END
$$;

-- The location service: where requests for an AOR go, best q first, and
-- whether the user exists at all (404) when nothing is registered (480).
-- A disabled subscriber is reached nowhere, whatever is registered.
-- Always one row at least: contact is NULL when there is no binding.
CREATE FUNCTION junction_lookup(p_aor text, p_username text, p_domain text)
RETURNS TABLE (known boolean, contact text, q numeric, path text, received text, expires bigint)
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM subscriber s WHERE s.username = p_username
                   AND s.domain = p_domain AND s.enabled),
           b.contact, b.q, b.path, b.received, extract(epoch FROM b.expires_at)::bigint
    FROM (VALUES (1)) AS one (x)
    LEFT JOIN LATERAL (
        SELECT bb.contact, bb.q, bb.path, bb.received, bb.expires_at, bb.updated_at
        FROM binding bb
        WHERE bb.aor = p_aor AND bb.expires_at > now()
          AND NOT EXISTS (SELECT 1 FROM subscriber s WHERE s.username = p_username
                          AND s.domain = p_domain AND NOT s.enabled)
    ) b ON true
    ORDER BY b.q DESC NULLS LAST, b.updated_at DESC
$$;

-- Nodes cache where an AOR is reached; tell them when that changes
-- (LISTEN junction_binding, payload the AOR). A refresh that only moves
-- expires_at later is not a change for them: their cached entries carry
-- the expiry and are fetched again when it passes; an earlier expiry is.
CREATE FUNCTION junction_binding_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_binding', CASE WHEN TG_OP = 'DELETE' THEN OLD.aor ELSE NEW.aor END);
    RETURN NULL;
END
$$;
CREATE TRIGGER binding_notify_insert_delete AFTER INSERT OR DELETE ON binding
    FOR EACH ROW EXECUTE FUNCTION junction_binding_notify();
CREATE TRIGGER binding_notify_update AFTER UPDATE ON binding
    FOR EACH ROW
    WHEN (OLD.contact IS DISTINCT FROM NEW.contact OR OLD.q IS DISTINCT FROM NEW.q
          OR OLD.path IS DISTINCT FROM NEW.path OR OLD.received IS DISTINCT FROM NEW.received
          OR NEW.expires_at < OLD.expires_at)
    EXECUTE FUNCTION junction_binding_notify();
-- Subscribers enabled or disabled change where their AOR is reached too.
CREATE FUNCTION junction_subscriber_binding_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_binding', 'sip:' || NEW.username || '@' || NEW.domain);
    RETURN NULL;
END
$$;
CREATE TRIGGER subscriber_enabled_notify AFTER UPDATE OF enabled ON subscriber
    FOR EACH ROW WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled)
    EXECUTE FUNCTION junction_subscriber_binding_notify();

-- The sweeper: expired bindings in batches, so a large backlog never holds
-- a long lock. Returns how many rows went.
CREATE FUNCTION junction_sweep_expired(p_batch integer)
RETURNS integer LANGUAGE sql AS $$
    WITH victims AS (
        SELECT id FROM binding WHERE expires_at <= now()
        ORDER BY expires_at LIMIT p_batch
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM binding WHERE id IN (SELECT id FROM victims) RETURNING 1
    )
    SELECT count(*)::integer FROM gone
$$;
