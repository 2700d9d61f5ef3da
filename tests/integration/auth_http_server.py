#!/usr/bin/python3
"""A small HTTP authentication service for [auth] mode = http (auth_http.sh).

    auth_http_server.py --port PORT --log FILE [--openapi FILE] USER:PASSWORD[:ha1|:big] ...

It knows the passwords itself and checks the digest in each request the
way RFC 7616 §3.4.1 says (MD5 and SHA-256; qop=auth, or none: the RFC 2069
form): 200 when the response is right (with {"ha1": ...} for the users
marked ha1; for those marked big, with 64 KiB of padding beside it), 403
when it is not or the user is unknown. Every request
to /auth is one JSON line in the log: the body received, whether it
matches the HttpAuthRequest schema of admin/openapi.json (with
--openapi), and the status answered. HTTP/1.1 with keep-alive, one thread
per connection (ThreadingHTTPServer).

What it answers can be changed while it runs: POST /control with
{"mode": "normal" | "403" | "500" | "sleep", "sleep": SECONDS}; "sleep"
waits that long, then answers as "normal".
"""
import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"mode": "normal", "sleep": 0.0}
LOCK = threading.Lock()
USERS = {}
VALIDATOR = None
LOG = None


def digest(alg, text):
    h = hashlib.sha256 if alg == "SHA-256" else hashlib.md5
    return h(text.encode()).hexdigest()


def check(req):
    """(ok, ha1 or None) for the credentials in req."""
    user = USERS.get(req.get("username"))
    if user is None:
        return False, None
    password, flag = user
    alg = req["algorithm"]
    ha1 = digest(alg, "%s:%s:%s" % (req["username"], req["realm"], password))
    ha2 = digest(alg, "%s:%s" % (req["method"], req["uri"]))
    if req["qop"]:
        want = digest(alg, ":".join([ha1, req["nonce"], req["nc"], req["cnonce"], req["qop"], ha2]))
    else:
        want = digest(alg, ":".join([ha1, req["nonce"], ha2]))
    return want == req["response"].lower(), ha1 if flag else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        if self.path == "/control":
            with LOCK:
                STATE.update(json.loads(raw))
            self.answer(200, b"{}")
            return
        if self.path != "/auth":
            self.answer(404)
            return
        entry = {"t": time.time(), "port": self.client_address[1],
                 "content_type": self.headers.get("Content-Type")}
        try:
            req = json.loads(raw)
            entry["body"] = req
            if VALIDATOR is not None:
                entry["schema_errors"] = [e.message for e in VALIDATOR.iter_errors(req)]
        except ValueError as e:
            req = None
            entry["error"] = "not JSON: %s" % e
        with LOCK:
            mode, pause = STATE["mode"], float(STATE.get("sleep", 0))
            # arrivals, before any answer: a test can act while we think
            with open(LOG.name + ".in", "a") as arrivals:
                arrivals.write("%f\n" % time.time())
        if mode == "sleep":
            time.sleep(pause)
        body = b""
        if req is None:
            status = 400
        elif mode == "403":
            status = 403
        elif mode == "500":
            status = 500
        else:
            try:
                ok, ha1 = check(req)
            except (KeyError, TypeError, AttributeError):
                ok, ha1 = False, None
            status = 200 if ok else 403
            if ok and ha1:
                answer = {"ha1": ha1}
                if USERS[req["username"]][1] == "big":
                    answer["padding"] = "x" * 65536
                body = json.dumps(answer).encode()
        entry["status"] = status
        with LOCK:
            LOG.write(json.dumps(entry) + "\n")
            LOG.flush()
        try:
            self.answer(status, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # Junction gave up first (the "sleep" mode)


def main():
    global VALIDATOR, LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--openapi")
    ap.add_argument("users", nargs="*")
    a = ap.parse_args()
    for u in a.users:
        parts = u.split(":")
        USERS[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    if a.openapi:
        import jsonschema

        doc = json.load(open(a.openapi))
        schema = dict(doc["components"]["schemas"]["HttpAuthRequest"])
        schema.pop("example", None)
        VALIDATOR = jsonschema.Draft7Validator(schema)
    LOG = open(a.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
