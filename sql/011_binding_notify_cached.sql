-- Junction schema 11: binding notifications only where a cache can be
-- stale.
--
-- Nodes cache where an AOR is reached (LISTEN junction_binding, payload
-- the AOR) and, since this schema, only AORs that have a binding: a
-- lookup that finds none is not cached (src/registrar/location.c). So
-- the binding that gives an AOR its first live binding makes no cache
-- stale, and tells nobody. That is every REGISTER of a registration storm
-- (every phone registering anew after an outage): until now each INSERT
-- sent a NOTIFY, and a transaction that notifies takes the notification
-- queue's lock at commit, one after another, then every listening node
-- read and dropped each one. Measured on 2,000 first REGISTERs/s: about
-- 50 us of PostgreSQL CPU per REGISTER, a quarter of its share.
--
-- One trigger per statement, with the rows as a transition table, in
-- place of one per row: an AOR is named once per statement, and only
-- when it had a live binding other than the new ones (a cached entry
-- lists it and lacks them). A removal tells the nodes only when the row
-- had not expired: a cached entry whose binding expired is no longer
-- used (location.c reads the earliest expiry of its targets), so the
-- sweeper's deletions tell nobody either. A refresh that brings an
-- expired, not yet swept, binding back is a binding added for the caches:
-- the row trigger on UPDATE names its AOR too.

DROP TRIGGER binding_notify_insert_delete ON binding;

CREATE FUNCTION junction_binding_added_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- more live rows than live new ones means another (one index lookup
    -- per AOR; new_rows has no index to join)
    PERFORM pg_notify('junction_binding', a.aor)
    FROM (SELECT n.aor, count(*) FILTER (WHERE n.expires_at > now()) AS added
          FROM new_rows n GROUP BY n.aor) a
    WHERE (SELECT count(*) FROM binding b WHERE b.aor = a.aor AND b.expires_at > now())
          > a.added;
    RETURN NULL;
END
$$;

CREATE FUNCTION junction_binding_removed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_binding', a.aor)
    FROM (SELECT DISTINCT o.aor FROM old_rows o WHERE o.expires_at > now()) a;
    RETURN NULL;
END
$$;

CREATE TRIGGER binding_notify_insert AFTER INSERT ON binding
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION junction_binding_added_notify();
CREATE TRIGGER binding_notify_delete AFTER DELETE ON binding
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION junction_binding_removed_notify();

DROP TRIGGER binding_notify_update ON binding;
CREATE TRIGGER binding_notify_update AFTER UPDATE ON binding
    FOR EACH ROW
    WHEN (OLD.contact IS DISTINCT FROM NEW.contact OR OLD.q IS DISTINCT FROM NEW.q
          OR OLD.path IS DISTINCT FROM NEW.path OR OLD.received IS DISTINCT FROM NEW.received
          OR NEW.expires_at < OLD.expires_at OR OLD.expires_at <= now())
    EXECUTE FUNCTION junction_binding_notify();
