#!/usr/bin/env bash
# junction_register_batch() decides and changes what junction_register()
# does for the same REGISTERs one at a time. 400 random batches of 1-6
# REGISTERs over four AORs (adds, refreshes, removals, "*", older and
# repeated CSeqs, two Call-IDs, RFC 5626 instances, a contact limit of 3,
# the same AOR or Contact twice in one batch) go to the batch function for
# the AORs of domain a, and one by one to junction_register() for the same
# users in domain b. After each batch the answers (status, and each
# binding with its q and remaining time) and the binding tables of a and
# b must be the same. All of it runs in one transaction, so now() is the
# same for both sides.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql # ss: free_port

PORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }

cat >"$T_DIR/compare.sql" <<'SQL'
\set ON_ERROR_STOP 1
SET client_min_messages = notice;
DO $$
DECLARE
    nrounds constant integer := 400;
    k integer; u integer; nc integer; i integer; j integer;
    r_user integer[]; r_call_id text[]; r_cseq bigint[]; r_star boolean[];
    r_path text[]; r_ncontacts integer[];
    c_contact text[]; c_expires integer[]; c_q numeric[]; c_instance text[]; c_reg_id integer[];
    starts integer;
    got_a text[]; got_b text[]; one text[];
    table_a text; table_b text;
    n200 integer := 0; n403 integer := 0; n500 integer := 0;
    shared_aor integer := 0; several_alone integer := 0;
BEGIN
    PERFORM setseed(0.42);
    FOR round IN 1 .. nrounds LOOP
        k := 1 + floor(random() * 6);
        r_user := '{}'; r_call_id := '{}'; r_cseq := '{}'; r_star := '{}'; r_path := '{}';
        r_ncontacts := '{}';
        c_contact := '{}'; c_expires := '{}'; c_q := '{}'; c_instance := '{}'; c_reg_id := '{}';
        FOR i IN 1 .. k LOOP
            u := 1 + floor(random() * 4);
            r_user := r_user || u;
            r_call_id := r_call_id || ('call-' || u || '-' || floor(random() * 2));
            r_cseq := r_cseq || (1 + floor(random() * 6))::bigint;
            r_star := r_star || (random() < 0.05);
            r_path := r_path || CASE WHEN random() < 0.2 THEN '<sip:edge' || u || ';lr>' END;
            nc := CASE WHEN r_star[i] THEN 0 ELSE floor(random() * 3)::integer END;
            r_ncontacts := r_ncontacts || nc;
            FOR j IN 1 .. nc LOOP
                c_contact := c_contact || ('sip:u' || u || '@10.0.0.' || (1 + floor(random() * 4)));
                c_expires := c_expires || (ARRAY[0, 60, 3600])[1 + floor(random() * 3)];
                c_q := c_q || (ARRAY[0.5, 1.0])[1 + floor(random() * 2)]::numeric;
                IF random() < 0.15 THEN
                    c_instance := c_instance || ('<urn:uuid:' || u || '>');
                    c_reg_id := c_reg_id || (1 + floor(random() * 2))::integer;
                ELSE
                    c_instance := c_instance || NULL::text;
                    c_reg_id := c_reg_id || NULL::integer;
                END IF;
            END LOOP;
        END LOOP;
        IF (SELECT count(DISTINCT x) FROM unnest(r_user) x) < k THEN
            shared_aor := shared_aor + 1;
        ELSIF k > 1 THEN
            several_alone := several_alone + 1;
        END IF;

        SELECT array_agg(concat_ws('|', b.reg, b.status, b.contact, b.q, b.expires, b.path)
                         ORDER BY b.reg, b.contact)
        INTO got_a
        FROM junction_register_batch(
            ARRAY(SELECT 'sip:u' || x || '@a' FROM unnest(r_user) x), r_call_id, r_cseq,
            c_contact, c_expires, c_q, c_instance, c_reg_id,
            r_star, array_fill('udp:10.0.0.9:5060'::text, ARRAY[k]), r_path,
            array_fill('ua'::text, ARRAY[k]), array_fill('n1'::text, ARRAY[k]),
            array_fill(3, ARRAY[k]), r_ncontacts) b;

        got_b := '{}';
        starts := 1;
        FOR i IN 1 .. k LOOP
            SELECT array_agg(concat_ws('|', i, f.status, f.contact, f.q, f.expires, f.path)
                             ORDER BY f.contact)
            INTO one
            FROM junction_register('sip:u' || r_user[i] || '@b', r_call_id[i], r_cseq[i],
                c_contact[starts : starts + r_ncontacts[i] - 1],
                c_expires[starts : starts + r_ncontacts[i] - 1],
                c_q[starts : starts + r_ncontacts[i] - 1],
                c_instance[starts : starts + r_ncontacts[i] - 1],
                c_reg_id[starts : starts + r_ncontacts[i] - 1],
                r_star[i], 'udp:10.0.0.9:5060', r_path[i], 'ua', 'n1', 3) f;
            got_b := got_b || one;
            starts := starts + r_ncontacts[i];
            n200 := n200 + (one[1] LIKE i || '|200%')::integer;
            n403 := n403 + (one[1] LIKE i || '|403%')::integer;
            n500 := n500 + (one[1] LIKE i || '|500%')::integer;
        END LOOP;
        IF got_a IS DISTINCT FROM got_b THEN
            RAISE EXCEPTION 'round %: the batch answered % where one by one answered %',
                round, got_a, got_b;
        END IF;

        SELECT string_agg(concat_ws('|', split_part(aor, '@', 1), contact, expires_at, q,
                                    call_id, cseq, path, instance, reg_id), ';'
                          ORDER BY aor, contact)
        INTO table_a FROM binding WHERE aor LIKE '%@a';
        SELECT string_agg(concat_ws('|', split_part(aor, '@', 1), contact, expires_at, q,
                                    call_id, cseq, path, instance, reg_id), ';'
                          ORDER BY aor, contact)
        INTO table_b FROM binding WHERE aor LIKE '%@b';
        IF table_a IS DISTINCT FROM table_b THEN
            RAISE EXCEPTION 'round %: after the batch the bindings are % where one by one they are %',
                round, table_a, table_b;
        END IF;
    END LOOP;
    RAISE NOTICE 'compared rounds=% status200=% status403=% status500=% shared_aor=% several_alone=%',
        nrounds, n200, n403, n500, shared_aor, several_alone;
END
$$;
SQL

out=$(psql -X -q -h "$PG_DIR" -p "$PGPORT" -U postgres -d junction -f "$T_DIR/compare.sql" 2>&1)
rc=$?
log "$out"
if [ $rc = 0 ] && echo "$out" | grep -q "compared rounds=400"; then
	pass "400 batches: the same answers and bindings as one by one"
else
	fail "batch and one by one differ (psql exit $rc)"
fi
# The comparison means something only if it met every case.
for what in status200 status403 status500 shared_aor several_alone; do
	n=$(echo "$out" | grep -o "$what=[0-9]*" | cut -d= -f2)
	[ "${n:-0}" -gt 0 ] && pass "cases met: $what=$n" || fail "no case of $what"
done
t_done
