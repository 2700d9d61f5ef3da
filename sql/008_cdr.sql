-- Junction schema 8: call records (CDR), one row per event of an INVITE
-- call: 'start' when the proxy relays it, 'answer' when a 2xx comes back,
-- 'end' when a BYE ends it or it fails, is cancelled or times out.
--
-- The nodes write these rows in batches from a thread of their own
-- (proxy/cdr.c), off the call's path, with COPY: a row lands a flush
-- interval (200 ms by default) after its event, later while the database
-- is down. A batch whose commit was not confirmed (the connection broke at
-- that moment) is written again, so an event may, rarely, have two rows;
-- the cdr_call view takes the first. Events of one call may come from
-- different nodes (the BYE may enter through another node than the
-- INVITE), so a call is put together by its Call-ID, never by node.
--
-- Nothing deletes rows: how long they are kept is the operator's choice
-- (junction-sql(7), "cdr").

CREATE TABLE cdr (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event       text NOT NULL CHECK (event IN ('start', 'answer', 'end')),
    at          timestamptz NOT NULL,       -- when it happened, on the node's clock
    node        text NOT NULL,              -- the node that saw it
    call_id     text NOT NULL,
    from_uri    text,
    from_tag    text,
    to_uri      text,
    to_tag      text,                       -- NULL until answered
    ruri        text,                       -- the Request-URI as received
    target      text,                       -- where the request went (the next hop)
    sip_server  text,                       -- the Session Controller, if it went to one
    -- answer: the 2xx; end: the final failure status (486, 487, 408...),
    -- NULL after a BYE
    status      integer CHECK (status BETWEEN 100 AND 699),
    reason      text                        -- end: bye, cancel, failure or timeout
);
CREATE INDEX cdr_at ON cdr (at);
CREATE INDEX cdr_call_id ON cdr (call_id);

-- One row per call: its Call-ID and the caller's From tag, with the times
-- of its start, answer and end (the first of each), the final status
-- (the end's when it failed, else the answer's 2xx), why it ended, who
-- called whom (from the start), the target that answered (else the one
-- that ended it, else the first), the nodes that wrote its rows, and how
-- long it was up (end - answer; NULL when not answered or not ended).
-- A completed call is one with an end.
--
-- A BYE the callee sends carries the tags the other way round (its From
-- tag is the call's To tag): such a row counts for the call whose start
-- has that From tag.
CREATE VIEW cdr_call AS
    SELECT c.call_id, c.caller_tag AS from_tag,
           min(c.at) FILTER (WHERE c.event = 'start') AS started,
           min(c.at) FILTER (WHERE c.event = 'answer') AS answered,
           min(c.at) FILTER (WHERE c.event = 'end') AS ended,
           coalesce((array_agg(c.status ORDER BY c.at, c.id) FILTER (WHERE c.event = 'end'))[1],
                    (array_agg(c.status ORDER BY c.at, c.id)
                         FILTER (WHERE c.event = 'answer'))[1]) AS status,
           (array_agg(c.reason ORDER BY c.at, c.id) FILTER (WHERE c.event = 'end'))[1] AS reason,
           (array_agg(c.from_uri ORDER BY c.at, c.id) FILTER (WHERE c.event = 'start'))[1]
               AS from_uri,
           (array_agg(c.to_uri ORDER BY c.at, c.id) FILTER (WHERE c.event = 'start'))[1]
               AS to_uri,
           (array_agg(c.ruri ORDER BY c.at, c.id) FILTER (WHERE c.event = 'start'))[1] AS ruri,
           coalesce((array_agg(c.target ORDER BY c.at, c.id)
                         FILTER (WHERE c.event = 'answer' AND c.target IS NOT NULL))[1],
                    (array_agg(c.target ORDER BY c.at, c.id)
                         FILTER (WHERE c.event = 'end' AND c.target IS NOT NULL))[1],
                    (array_agg(c.target ORDER BY c.at, c.id)
                         FILTER (WHERE c.target IS NOT NULL))[1]) AS target,
           (array_agg(c.sip_server ORDER BY c.at, c.id)
                FILTER (WHERE c.sip_server IS NOT NULL))[1] AS sip_server,
           (array_agg(c.node ORDER BY c.at, c.id) FILTER (WHERE c.event = 'start'))[1] AS node,
           array_agg(DISTINCT c.node ORDER BY c.node) AS nodes,
           min(c.at) FILTER (WHERE c.event = 'end') - min(c.at) FILTER (WHERE c.event = 'answer')
               AS duration
    FROM (SELECT x.*,
                 CASE WHEN x.event <> 'start' AND x.to_tag IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM cdr s
                                           WHERE s.call_id = x.call_id AND s.event = 'start'
                                                 AND s.from_tag IS NOT DISTINCT FROM x.from_tag)
                           AND EXISTS (SELECT 1 FROM cdr s
                                       WHERE s.call_id = x.call_id AND s.event = 'start'
                                             AND s.from_tag = x.to_tag)
                      THEN x.to_tag ELSE x.from_tag END AS caller_tag
          FROM cdr x) c
    GROUP BY c.call_id, c.caller_tag;
