-- Junction schema 10: the nodes of the cluster, each as it last said.
--
-- Every node's database thread upserts its own row when it connects and
-- every 10 seconds after (a heartbeat), so last_seen says how recently a
-- node was up and talking to the database. A node writes its own row and
-- no other: one that stops (or is renamed) leaves its row behind, and the
-- cluster_nodes view shows it with alive false. Operators delete rows of
-- nodes that are gone for good; a node that comes back writes its row
-- again. /v1/nodes (junction(8)) reads the view.

CREATE TABLE node (
    name          text PRIMARY KEY,          -- [node] name
    version       text NOT NULL,             -- the junction that runs it (junction --version)
    geo_location  text,                      -- [cluster] geo_location; NULL: not set
    -- the [sip] listen value, as the node reads it: its listeners,
    -- separated by a blank ('udp:10.0.0.5:5060 tcp:10.0.0.5:5060')
    sip_listen    text NOT NULL,
    -- the admin API's [admin] listen address; NULL: the API is off
    admin_listen  text,
    started_at    timestamptz NOT NULL,      -- when the process started its database thread
    last_seen     timestamptz NOT NULL DEFAULT now()  -- its last heartbeat
);

-- The nodes, and whether each is alive: a heartbeat within the last 30
-- seconds (three missed in a row and it is not).
CREATE VIEW cluster_nodes AS
    SELECT name, version, geo_location, sip_listen, admin_listen, started_at, last_seen,
           last_seen > now() - interval '30 seconds' AS alive
    FROM node;
