-- Junction schema 7: static routes and call forward unconditional.
--
-- Where a request goes when nobody is registered for it: route holds the
-- next hops of a domain, of an E.164 number prefix, and the outbound proxy
-- of a domain; call_forward sends every request for one AOR to another
-- URI. Operators write them here (or through /v1/routes and /v1/forwards,
-- or junctionctl route and forward). Every node holds both tables in
-- memory (proxy/statroute.c, proxy/callfwd.c) and reads one again whole
-- within a second of any change: the statement triggers below NOTIFY
-- junction_route and junction_forward, and the nodes LISTEN.
--
-- Values are normalised by BEFORE triggers, so that a row written in SQL
-- and one written through the API look alike: domains in lowercase, a
-- next hop given as host, host:port or address[:port] gets "sip:" in
-- front, an AOR loses its "sip:" and gets its domain in lowercase. The
-- CHECKs then validate what is stored.

-- A host name or an IPv4 address, lowercase (RFC 3261 §25.1 hostname).
CREATE FUNCTION junction_is_domain(p text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT length(p) BETWEEN 1 AND 253
       AND p ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$'
$$;

CREATE TABLE route (
    id          bigserial PRIMARY KEY,
    -- domain: requests for the host name match; prefix: requests for an
    -- E.164 number starting with match (the longest matching prefix wins,
    -- before any domain route); outbound: the outbound proxy of the domain
    -- match, for requests leaving towards it
    kind        text NOT NULL CHECK (kind IN ('domain', 'prefix', 'outbound')),
    -- domain and outbound: a host name (lowercase); prefix: 1 to 15
    -- digits, the start of an E.164 number without '+'
    match       text NOT NULL,
    -- where to send: a sip: or sips: URI without a user part, e.g.
    -- 'sip:gw1.example.net:5060;transport=tcp'
    next_hop    text NOT NULL
                CHECK (length(next_hop) BETWEEN 5 AND 255 AND next_hop ~* '^sips?:[^@[:space:]]+$'),
    -- the hops of one match are tried by priority, lowest first; within
    -- one priority in RFC 2782's weighted random order (weight 0: after
    -- the weighted ones)
    priority    integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 65535),
    weight      integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 0 AND 65535),
    enabled     boolean NOT NULL DEFAULT true,
    description text CHECK (length(description) <= 256),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT route_match_check CHECK (CASE kind WHEN 'prefix' THEN match ~ '^[0-9]{1,15}$'
                                                  ELSE junction_is_domain(match) END),
    -- the same hop twice for one match is a mistake
    CONSTRAINT route_hop_unique UNIQUE (kind, match, next_hop)
);

CREATE TABLE call_forward (
    -- 'user@domain': the user as written (case matters), the domain in
    -- lowercase; a request whose Request-URI is this AOR goes to target
    aor         text PRIMARY KEY
                CHECK (length(aor) <= 320 AND aor ~ '^[^@;?<>"[:space:]]+@[^@]+$'
                       AND junction_is_domain(substring(aor from '@([^@]+)$'))),
    -- a sip: or sips: URI (with a user part or not)
    target      text NOT NULL
                CHECK (length(target) BETWEEN 5 AND 255 AND target ~* '^sips?:[^<>"[:space:]]+$'),
    enabled     boolean NOT NULL DEFAULT true,
    description text CHECK (length(description) <= 256),
    -- the API's list pages by it (the order of creation)
    id          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION junction_route_normalise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IN ('domain', 'outbound') THEN
        NEW.match := lower(NEW.match);
    END IF;
    IF NEW.next_hop !~* '^sips?:' THEN
        NEW.next_hop := 'sip:' || NEW.next_hop;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER route_normalise BEFORE INSERT OR UPDATE ON route
    FOR EACH ROW EXECUTE FUNCTION junction_route_normalise();

CREATE FUNCTION junction_forward_normalise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.aor := regexp_replace(NEW.aor, '^sips?:', '', 'i');
    IF position('@' IN NEW.aor) > 0 THEN
        NEW.aor := substring(NEW.aor from '^(.*@)') || lower(substring(NEW.aor from '@([^@]*)$'));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER call_forward_normalise BEFORE INSERT OR UPDATE ON call_forward
    FOR EACH ROW EXECUTE FUNCTION junction_forward_normalise();

-- Nodes hold both tables in memory; tell them when anything changes.
CREATE FUNCTION junction_route_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_route', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER route_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON route
    FOR EACH STATEMENT EXECUTE FUNCTION junction_route_notify();

CREATE FUNCTION junction_forward_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_forward', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER call_forward_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON call_forward
    FOR EACH STATEMENT EXECUTE FUNCTION junction_forward_notify();
