"""The SIP-level checks of security.sh: relay policy, rate limit and
authentication-failure bans (address and user), bans shared between two
nodes, digest credentials bound to their Request-URI, node and client.

Environment: P1, P2 (the nodes' SIP ports on 127.0.0.1; node 2 runs with
open_relay and [auth] invite), PU (a port for our UAS), A1, A2 (the
nodes' admin URLs), TOKEN. Prints "ok: ..." and "FAIL: ..." lines; exits 1
when a check failed.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipx import Client, Uas, credentials  # noqa: E402

P1, P2, PU = int(os.environ["P1"]), int(os.environ["P2"]), int(os.environ["PU"])
A1, A2, TOKEN = os.environ["A1"], os.environ["A2"], os.environ["TOKEN"]
DOMAIN = "example.com"
fails = 0


def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        fails += 1


def api(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body else None)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if body:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, json.loads(text) if text else None


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                if line.split(" ")[0] == name:
                    return float(line.split(" ")[1])
    return None


def wait_for(cond, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def options(src, port=P1, wait=1.0):
    c = Client(src, "127.0.0.1", port)
    r = c.send(c.request("OPTIONS", "sip:127.0.0.1:%d" % port, "sip:probe@elsewhere.test",
                         "sip:127.0.0.1:%d" % port), wait=wait)
    c.close()
    return r.status if r else None


def invite(src, ruri, from_uri, port=P1, user=None, password=None, chal_uri=None):
    """INVITE (answering one 407 when user is given). Returns the final
    status, the request text sent last and the client (open)."""
    c = Client(src, "127.0.0.1", port)
    req = c.request("INVITE", ruri, from_uri, ruri)
    r = c.send(req)
    if r and r.status >= 300:
        c.ack(req, r)
    if r and r.status == 407 and user:
        cred = credentials(r.header("Proxy-Authenticate"), "INVITE", chal_uri or ruri, user,
                           password, proxy=True)
        req = c.request("INVITE", ruri, from_uri, ruri, extra=cred, cseq=2)
        r = c.send(req)
        if r and r.status >= 300:
            c.ack(req, r)
    return (r.status if r else None), req, c, r


uas = Uas("127.0.0.1", PU)
far = "sip:carol@127.0.0.1:%d" % PU  # not one of our domains


def far_uri(user):
    return "sip:%s@127.0.0.1:%d" % (user, PU)


def reached(method, user):
    """Did a method request for user@ reach our UAS (waiting a little for
    what may still be on its way)?"""
    prefix = "%s %s" % (method, far_uri(user))
    return wait_for(lambda: any(g.startswith(prefix) for g in uas.got), 0.3)


# ---- relay policy (node 1: the default policy, 127.0.0.2 trusted) --------
st, _, c, r = invite("127.0.0.60", far_uri("r1"), "sip:mallory@evil.test")
c.close()
check(st == 403 and r.reason == "Relaying Denied" and not reached("INVITE", "r1"),
      "a stranger's INVITE to another domain: 403 Relaying Denied, nothing relayed (%s)" % st)
st, _, c, r = invite("127.0.0.61", far_uri("r2"), "sip:alice@%s" % DOMAIN)
c.close()
check(st == 407 and not reached("INVITE", "r2"),
      "an unauthenticated local user's: 407, nothing relayed (%s)" % st)
st, _, c, r = invite("127.0.0.61", far_uri("r3"), "sip:alice@%s" % DOMAIN, user="alice",
                     password="alice-pw")
c.close()
check(st == 486 and reached("INVITE", "r3"),
      "an authenticated local user's: relayed (the callee's 486) (%s)" % st)
st, _, c, r = invite("127.0.0.2", far_uri("r4"), "sip:mallory@evil.test")
c.close()
check(st == 486 and reached("INVITE", "r4"), "a trusted source's: relayed (%s)" % st)
st, _, c, r = invite("127.0.0.62", far_uri("r5"), "sip:mallory@evil.test", port=P2)
c.close()
check(st == 486 and reached("INVITE", "r5"), "with open_relay (node 2): relayed (%s)" % st)
c = Client("127.0.0.63", "127.0.0.1", P1)
r = c.send(c.request("ACK", far_uri("r6"), "sip:mallory@evil.test", far_uri("r6"),
                     to_tag="x1"), wait=0.5)
c.close()
check(r is None and not reached("ACK", "r6") and options("127.0.0.63") == 200,
      "a stranger's ACK to another domain: dropped, node alive")
for from_uri in ("sip:alice@%s" % DOMAIN, "sip:nobody@%s" % DOMAIN):
    c = Client("127.0.0.65", "127.0.0.1", P1)
    r = c.send(c.request("ACK", far_uri("r7"), from_uri, far_uri("r7"), to_tag="x2"), wait=0.5)
    c.close()
    check(r is None and not reached("ACK", "r7"),
          "a stray ACK from %s (a From anyone can write) is not relayed" % from_uri)
st, _, c, r = invite("127.0.0.66", "sip:%s" % DOMAIN, "sip:mallory@evil.test")
c.close()
check(st == 484, "an INVITE for our domain with no user: 484 (%s)" % st)
st, _, c, r = invite("127.0.0.64", "sip:nobody@%s" % DOMAIN, "sip:mallory@evil.test")
c.close()
st2, _, c, r = invite("127.0.0.64", "sip:bob@%s" % DOMAIN, "sip:mallory@evil.test")
c.close()
st3, _, c, r = invite("127.0.0.2", "sip:bob@%s" % DOMAIN, "sip:mallory@evil.test")
c.close()
check((st, st2, st3) == (404, 404, 480),
      "for our domain: a stranger gets 404 for an unknown user and for one not registered "
      "(who exists is not told), a trusted source 480 for the latter (%s, %s, %s)"
      % (st, st2, st3))

# ---- digest: uri bound to the Request-URI, nonce to node and client -------
c = Client("127.0.0.70", "127.0.0.1", P1)
reg_uri = "sip:%s" % DOMAIN
req = c.request("REGISTER", reg_uri, "sip:alice@%s" % DOMAIN, "sip:alice@%s" % DOMAIN)
r = c.send(req)
cred = credentials(r.header("WWW-Authenticate"), "REGISTER", "sip:other.example.org", "alice",
                   "alice-pw")
r = c.send(c.request("REGISTER", reg_uri, "sip:alice@%s" % DOMAIN, "sip:alice@%s" % DOMAIN,
                     extra=cred, cseq=2))
check(r and r.status == 401, "REGISTER whose credentials name another uri: 401 (%s)"
      % (r and r.status))
c.close()
# node 2 challenges INVITEs ([auth] invite): capture credentials there
c = Client("127.0.0.71", "127.0.0.1", P2)
req = c.request("INVITE", far, "sip:alice@%s" % DOMAIN, far)
r = c.send(req)
c.ack(req, r)
cred = credentials(r.header("Proxy-Authenticate"), "INVITE", far, "alice", "alice-pw",
                   proxy=True)
r = c.send(c.request("INVITE", far, "sip:alice@%s" % DOMAIN, far, extra=cred, cseq=2))
check(r and r.status == 486, "node 2: the credentials pass once (%s)" % (r and r.status))
c.ack(req, r)


def replay(src, port, what, ruri=far):
    cl = Client(src, "127.0.0.1", port)
    q = cl.request("INVITE", ruri, "sip:alice@%s" % DOMAIN, ruri, extra=cred, cseq=2)
    rr = cl.send(q)
    if rr:
        cl.ack(q, rr)
    cl.close()
    ok = rr is not None and rr.status == 407 and \
        "stale=true" in (rr.header("Proxy-Authenticate") or "")
    check(ok, "the same credentials replayed %s: 407 stale=true (%s)" % (what, rr and rr.status))


replay("127.0.0.71", P2, "to the same node (nonce-count used)")
replay("127.0.0.72", P2, "from another address")
replay("127.0.0.71", P1, "to another node (node 1)")
c2 = Client("127.0.0.71", "127.0.0.1", P2)
other = "sip:dave@127.0.0.1:%d" % PU
r = c2.send(c2.request("INVITE", other, "sip:alice@%s" % DOMAIN, other, extra=cred, cseq=3))
check(r and r.status == 407 and "stale=true" not in (r.header("Proxy-Authenticate") or ""),
      "... to another target: 407, not stale (%s)" % (r and r.status))
c2.close()
c.close()

# ---- rate limit (node 1: 30/s, ban_action reply) -----------------------------
statuses = [options("127.0.0.50", wait=0.5) for _ in range(70)]
first403 = statuses.index(403) if 403 in statuses else -1
check(first403 >= 30 and all(s == 200 for s in statuses[:first403]) and
      all(s == 403 for s in statuses[first403:]),
      "70 OPTIONS at once from one source: 200 then 403 for good (%d answered 200)"
      % first403)
check(options("127.0.0.51") == 200, "another source meanwhile: 200")
st, j = api(A1, "GET", "/v1/bans/127.0.0.50")
check(st == 200 and j["reason"] == "rate_limit" and j["kind"] == "address" and
      55 <= j["seconds_left"] <= 60, "GET /v1/bans/127.0.0.50: rate_limit, 60 s (%s %s)"
      % (st, j))
check(wait_for(lambda: api(A2, "GET", "/v1/bans/127.0.0.50")[0] == 200, 2),
      "node 2 has node 1's ban within 2 s")
check(options("127.0.0.50", port=P2) == 403, "... and refuses that source")
st, _ = api(A2, "DELETE", "/v1/bans/127.0.0.50")
check(st == 204, "DELETE /v1/bans/127.0.0.50 on node 2: 204 (%s)" % st)
check(wait_for(lambda: api(A1, "GET", "/v1/bans/127.0.0.50")[0] == 404, 2),
      "node 1 lifts it within 2 s")
check(options("127.0.0.50") == 200, "the source gets 200 again")
st, _ = api(A1, "DELETE", "/v1/bans/127.0.0.50")
check(st == 404, "lifting it again: 404 (%s)" % st)

# ---- authentication failures ---------------------------------------------------


def register(src, user, password, port=P1):
    cl = Client(src, "127.0.0.1", port)
    aor = "sip:%s@%s" % (user, DOMAIN)
    rr = cl.send(cl.request("REGISTER", reg_uri, aor, aor))
    if rr and rr.status == 401:
        cr = credentials(rr.header("WWW-Authenticate"), "REGISTER", reg_uri, user, password)
        rr = cl.send(cl.request("REGISTER", reg_uri, aor, aor, extra=cr, cseq=2))
    cl.close()
    return rr


got = [register("127.0.0.30", "bob", "wrong-%d" % i) for i in range(4)]
got = [g.status if g else None for g in got]
check(got == [401, 401, 401, 403], "wrong passwords from one source: 401 x3, then 403 (%s)"
      % got)
st, j = api(A1, "GET", "/v1/bans/127.0.0.30")
check(st == 200 and j["reason"] == "auth_failures", "... banned for auth_failures (%s)" % st)
got = [register("127.0.0.%d" % (40 + i), "erin", "wrong") for i in range(4)]
got = [g.status if g else None for g in got]
r = register("127.0.0.44", "erin", "erin-pw")
check(got == [401] * 4 and r and r.status == 403 and r.reason == "User Banned",
      "wrong passwords for erin from 4 sources, then the right one: 403 User Banned (%s, %s)"
      % (got, r and r.status))
st, j = api(A1, "GET", "/v1/bans?kind=user")
check(st == 200 and [b["target"] for b in j["items"]] == ["erin@%s" % DOMAIN],
      "GET /v1/bans?kind=user lists erin@%s (%s)" % (DOMAIN, j))
st, _ = api(A1, "DELETE", "/v1/bans/erin@%s" % DOMAIN)
r = register("127.0.0.44", "erin", "erin-pw")
check(st == 204 and r and r.status == 200, "lifted: erin registers (%s, %s)"
      % (st, r and r.status))
r = register("127.0.0.45", "alice", "alice-pw")
check(r and r.status == 200, "alice from elsewhere meanwhile: 200 (%s)" % (r and r.status))

# ---- manual bans and the API's answers ------------------------------------------
st, j = api(A1, "POST", "/v1/bans", {"target": "2001:db8::7", "seconds": 120})
check(st == 201 and j["target"] == "2001:db8::7" and j["reason"] == "manual",
      "POST /v1/bans an IPv6 address: 201 (%s)" % st)
for body, want in (({"target": "10.0.0.0/8", "seconds": 5}, 422),
                   ({"target": "1.2.3.4", "seconds": 0}, 422),
                   ({"target": "1.2.3.4"}, 422),
                   ({"target": "1.2.3.4", "seconds": 5, "x": 1}, 422),
                   ({"kind": "user", "target": "nobody", "seconds": 5}, 422)):
    st, j = api(A1, "POST", "/v1/bans", body)
    check(st == want and "error" in j, "POST /v1/bans %s: %d with a JSON error (%s)"
          % (json.dumps(body), want, st))
st, j = api(A1, "GET", "/v1/bans?kind=nope")
check(st == 400, "GET /v1/bans?kind=nope: 400 (%s)" % st)

uas.close()
print("%d check(s) failed" % fails)
sys.exit(1 if fails else 0)
