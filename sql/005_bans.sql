-- Junction schema 5: bans, shared by every node.
--
-- A node that bans an address (over [security] rate_limit, or too many
-- authentication failures) or a user (too many failures for one user)
-- writes the ban here; the NOTIFY brings it to every other node within a
-- second. A lift is an UPDATE of lifted_at. Operators may ban or lift in
-- SQL too: junction_ban() and junction_lift_ban().

CREATE TABLE ban (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('address', 'user')),
    -- an address as inet's text ('192.0.2.7', '2001:db8::1'), or
    -- 'user@realm'
    target      text NOT NULL CHECK (length(target) BETWEEN 3 AND 191),
    reason      text NOT NULL CHECK (reason IN ('rate_limit', 'auth_failures', 'manual')),
    node        text NOT NULL,                 -- the node (or 'sql') that banned it
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    lifted_at   timestamptz,
    -- when the row last changed: the nodes read what changed since they
    -- last looked
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- one spelling per target: an address as host() writes it
    CHECK (CASE WHEN kind = 'address' THEN target = host(target::inet)
                ELSE position('@' IN target) > 1 END)
);
CREATE INDEX ban_changed ON ban (changed_at);
CREATE INDEX ban_target ON ban (kind, target);

-- The bans in force.
CREATE VIEW active_bans AS
    SELECT id, kind, target, reason, node, created_at, expires_at
    FROM ban
    WHERE lifted_at IS NULL AND expires_at > now();

CREATE FUNCTION junction_ban_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_ban', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER ban_changed AFTER INSERT OR UPDATE ON ban
    FOR EACH STATEMENT EXECUTE FUNCTION junction_ban_changed();

-- Bans p_target ('address' or 'user') for p_seconds; returns the row's id.
CREATE FUNCTION junction_ban(p_kind text, p_target text, p_seconds integer,
                             p_node text DEFAULT 'sql')
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO ban (kind, target, reason, node, expires_at)
    VALUES (p_kind, p_target, 'manual', p_node,
            now() + make_interval(secs => p_seconds))
    RETURNING id;
$$;

-- Lifts the bans in force on p_target; returns how many.
CREATE FUNCTION junction_lift_ban(p_kind text, p_target text)
RETURNS integer LANGUAGE sql AS $$
    WITH l AS (
        UPDATE ban SET lifted_at = now(), changed_at = clock_timestamp()
        WHERE kind = p_kind AND target = p_target
          AND lifted_at IS NULL AND expires_at > now()
        RETURNING 1)
    SELECT count(*)::integer FROM l;
$$;

-- Rows over a day past their end, deleted by the nodes' sweep.
CREATE FUNCTION junction_ban_sweep() RETURNS integer
LANGUAGE sql AS $$
    WITH d AS (
        DELETE FROM ban
        WHERE coalesce(lifted_at, expires_at) < now() - interval '1 day'
        RETURNING 1)
    SELECT count(*)::integer FROM d;
$$;
