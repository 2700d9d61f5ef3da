-- Junction schema 3: Session Controllers (the back-end SIP Servers).
--
-- Operators provision the pools here (or through /v1/sip-servers, or
-- junctionctl sip-server); every node LISTENs on junction_sip_server and
-- reloads the table within a second of a change. Each node probes every
-- enabled server itself and publishes what it sees in sip_server_node;
-- the sip_server_status view joins the two, one row per node and server.

CREATE TABLE sip_server (
    name          text PRIMARY KEY
                  CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    -- where requests go and OPTIONS probes are sent: a SIP URI without a
    -- user part, e.g. 'sip:10.0.1.5:5060' or 'sip:sc1.dc1.example.com;transport=tcp'
    uri           text NOT NULL CHECK (uri ~* '^sips?:[^@[:space:]]+$'),
    -- the data centre; a node prefers the servers of its own ([cluster] geo_location)
    geo_location  text NOT NULL CHECK (geo_location ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    -- the HA pair it belongs to (NULL: a server on its own); a pair has at
    -- most one primary and one backup, both in one data centre
    ha_pair       text CHECK (ha_pair ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    role          text NOT NULL DEFAULT 'primary' CHECK (role IN ('primary', 'backup')),
    -- share of new sessions among the in-service servers of one data centre;
    -- 0 takes none (draining)
    weight        integer NOT NULL DEFAULT 100 CHECK (weight BETWEEN 0 AND 10000),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ha_pair IS NOT NULL OR role = 'primary')
);
CREATE UNIQUE INDEX sip_server_pair_role ON sip_server (ha_pair, role) WHERE ha_pair IS NOT NULL;

-- What each node sees of each server, written by that node.
CREATE TABLE sip_server_node (
    node             text NOT NULL,
    server           text NOT NULL REFERENCES sip_server (name) ON DELETE CASCADE ON UPDATE CASCADE,
    -- active: this node sends new sessions there; standby: in service but
    -- not the member of its pair in use; oos: out of service
    state            text NOT NULL CHECK (state IN ('active', 'standby', 'oos')),
    since            timestamptz NOT NULL,
    rtt_ms           double precision,      -- round trip of the last answered probe
    last_switchover  timestamptz,           -- when it last became the pair's active member
    reason           text,                  -- why it is in its state, e.g. 'no answer to OPTIONS'
    node_geo_location text,                 -- the node's own data centre
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, server)
);

CREATE VIEW sip_server_status AS
    SELECT n.node, n.node_geo_location, s.name AS server, s.uri, s.geo_location, s.ha_pair,
           s.role, s.weight, s.enabled, n.state, n.since, n.rtt_ms, n.last_switchover,
           n.reason, n.updated_at
    FROM sip_server_node n JOIN sip_server s ON s.name = n.server;

-- Both members of a pair in one data centre.
CREATE FUNCTION junction_sip_server_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ha_pair IS NOT NULL AND EXISTS (
        SELECT 1 FROM sip_server
        WHERE ha_pair = NEW.ha_pair AND name <> NEW.name AND geo_location <> NEW.geo_location) THEN
        RAISE EXCEPTION 'HA pair % spans two data centres', NEW.ha_pair
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER sip_server_check BEFORE INSERT OR UPDATE ON sip_server
    FOR EACH ROW EXECUTE FUNCTION junction_sip_server_check();

-- Nodes hold the pools in memory; tell them when anything changes.
CREATE FUNCTION junction_sip_server_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_sip_server', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER sip_server_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sip_server
    FOR EACH STATEMENT EXECUTE FUNCTION junction_sip_server_notify();

-- Provisioning.
CREATE FUNCTION junction_add_sip_server(p_name text, p_uri text, p_geo_location text,
                                        p_ha_pair text DEFAULT NULL,
                                        p_role text DEFAULT 'primary',
                                        p_weight integer DEFAULT 100)
RETURNS sip_server LANGUAGE sql AS $$
    INSERT INTO sip_server (name, uri, geo_location, ha_pair, role, weight)
    VALUES (p_name, p_uri, p_geo_location, nullif(p_ha_pair, ''), coalesce(p_role, 'primary'),
            coalesce(p_weight, 100))
    RETURNING *
$$;

CREATE FUNCTION junction_del_sip_server(p_name text)
RETURNS boolean LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM sip_server WHERE name = p_name RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

-- Changes the columns given; NULL leaves one as it is, and an empty
-- p_ha_pair takes the server out of its pair. Returns the row, or no row
-- when there is no such server.
CREATE FUNCTION junction_set_sip_server(p_name text, p_uri text DEFAULT NULL,
                                        p_geo_location text DEFAULT NULL,
                                        p_ha_pair text DEFAULT NULL,
                                        p_role text DEFAULT NULL,
                                        p_weight integer DEFAULT NULL,
                                        p_enabled boolean DEFAULT NULL)
RETURNS SETOF sip_server LANGUAGE sql AS $$
    UPDATE sip_server
    SET uri = coalesce(p_uri, uri),
        geo_location = coalesce(p_geo_location, geo_location),
        ha_pair = CASE WHEN p_ha_pair IS NULL THEN ha_pair ELSE nullif(p_ha_pair, '') END,
        role = coalesce(p_role, role),
        weight = coalesce(p_weight, weight),
        enabled = coalesce(p_enabled, enabled),
        updated_at = now()
    WHERE name = p_name
    RETURNING *
$$;

-- A node publishes what it sees (parallel arrays, one entry per server;
-- times in milliseconds since the epoch). Rows of servers that are gone
-- went with them (ON DELETE CASCADE).
CREATE FUNCTION junction_sip_server_seen(p_node text, p_node_geo_location text,
                                         p_server text[], p_state text[], p_since_ms bigint[],
                                         p_rtt_us bigint[], p_switchover_ms bigint[],
                                         p_reason text[])
RETURNS integer LANGUAGE sql AS $$
    WITH v AS (
        SELECT * FROM unnest(p_server, p_state, p_since_ms, p_rtt_us, p_switchover_ms, p_reason)
            AS t(server, state, since_ms, rtt_us, switchover_ms, reason)
        WHERE EXISTS (SELECT 1 FROM sip_server s WHERE s.name = t.server)
    ), up AS (
        INSERT INTO sip_server_node AS n (node, server, state, since, rtt_ms, last_switchover,
                                          reason, node_geo_location, updated_at)
        SELECT p_node, server, state, to_timestamp(since_ms / 1000.0), rtt_us / 1000.0,
               to_timestamp(switchover_ms / 1000.0), reason, p_node_geo_location, now()
        FROM v
        ON CONFLICT (node, server) DO UPDATE
        SET state = excluded.state, since = excluded.since, rtt_ms = excluded.rtt_ms,
            last_switchover = excluded.last_switchover, reason = excluded.reason,
            node_geo_location = excluded.node_geo_location, updated_at = now()
        RETURNING 1
    )
    SELECT count(*)::integer FROM up
$$;
