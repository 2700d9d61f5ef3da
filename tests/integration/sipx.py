"""A small SIP client for the tests: requests over UDP from a chosen
loopback source address, digest credentials (RFC 7616, MD5 and SHA-256,
qop=auth), and a UAS that records what reaches it.

Used by security.sh's checks (security_checks.py); no third-party modules.
"""
import hashlib
import random
import re
import socket
import threading
import time


def rand(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class Response:
    def __init__(self, text):
        self.text = text
        first = text.split("\r\n", 1)[0]
        parts = first.split(" ", 2)
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""

    def header(self, name):
        for line in self.text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None

    def headers(self, name):
        out = []
        for line in self.text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                out.append(v.strip())
        return out


class Client:
    """Sends from src_ip (a fresh port) to (dst_ip, dst_port)."""

    def __init__(self, src_ip, dst_ip, dst_port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src_ip, 0))
        self.src_ip, self.src_port = self.sock.getsockname()
        self.dst = (dst_ip, dst_port)

    def close(self):
        self.sock.close()

    def request(self, method, ruri, from_uri, to_uri, extra="", call_id=None, cseq=1,
                branch=None, to_tag=None, user_agent="sipx-test"):
        """Builds a request; returns (text, branch, call_id)."""
        branch = branch or "z9hG4bK" + rand()
        call_id = call_id or rand(16)
        to = "<%s>" % to_uri + (";tag=%s" % to_tag if to_tag else "")
        text = ("%s %s SIP/2.0\r\n"
                "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <%s>;tag=%s\r\n"
                "To: %s\r\n"
                "Call-ID: %s\r\n"
                "CSeq: %d %s\r\n"
                "Contact: <sip:x@%s:%d>\r\n"
                "User-Agent: %s\r\n"
                "%s"
                "Content-Length: 0\r\n\r\n") % (
            method, ruri, self.src_ip, self.src_port, branch, from_uri, rand(6), to, call_id,
            cseq, method, self.src_ip, self.src_port, user_agent, extra)
        return text

    def send(self, text, wait=2.0, final=True):
        """Sends text; returns the first final Response (or the first
        response at all when final is False), or None after wait seconds."""
        self.sock.sendto(text.encode(), self.dst)
        deadline = time.time() + wait
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            r = Response(data.decode(errors="replace"))
            if not final or r.status >= 200:
                return r

    def ack(self, req_text, resp):
        """The ACK of a non-2xx final response to the INVITE req_text
        (RFC 3261 §17.1.1.3), sent without waiting."""
        lines = req_text.split("\r\n")
        ruri = lines[0].split(" ")[1]
        get = lambda n: next(l for l in lines if l.lower().startswith(n.lower() + ":"))
        text = ("ACK %s SIP/2.0\r\n%s\r\nMax-Forwards: 70\r\n%s\r\nTo: %s\r\n%s\r\n"
                "CSeq: %s ACK\r\nContent-Length: 0\r\n\r\n") % (
            ruri, get("Via"), get("From"), resp.header("To"), get("Call-ID"),
            get("CSeq").split(":")[1].split()[0])
        self.sock.sendto(text.encode(), self.dst)


def challenge_params(value):
    """The parameters of a Digest challenge header value."""
    return dict((k.lower(), v.strip('"')) for k, v in
                re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', value))


def credentials(chal, method, uri, user, password, nc=1, cnonce=None, proxy=False):
    """The Authorization / Proxy-Authorization line answering chal (a
    challenge header value) for method and uri."""
    p = challenge_params(chal)
    alg = p.get("algorithm", "MD5").upper()
    h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg == "SHA-256" else \
        (lambda s: hashlib.md5(s.encode()).hexdigest())
    cnonce = cnonce or rand(8)
    ncs = "%08x" % nc
    ha1 = h("%s:%s:%s" % (user, p["realm"], password))
    ha2 = h("%s:%s" % (method, uri))
    resp = h("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], ncs, cnonce, ha2))
    name = "Proxy-Authorization" if proxy else "Authorization"
    return ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, qop=auth, nc=%s, cnonce="%s"\r\n') % (
        name, user, p["realm"], p["nonce"], uri, resp, alg, ncs, cnonce)


class Uas:
    """Answers every request with status (486 by default) from ip:port and
    records the request lines it got; ACKs are recorded, not answered."""

    def __init__(self, ip, port, status=486):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.status = status
        self.got = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            head = text.split("\r\n\r\n", 1)[0].split("\r\n")
            if head[0].startswith("SIP/2.0"):
                continue
            self.got.append(head[0])
            if head[0].startswith("ACK "):
                continue
            keep = [l for l in head[1:] if l.split(":")[0].strip().lower() in
                    ("via", "from", "to", "call-id", "cseq")]
            keep = [l + ";tag=uas1" if l.lower().startswith("to:") and "tag=" not in l else l
                    for l in keep]
            resp = "SIP/2.0 %d Busy Here\r\n%s\r\nContent-Length: 0\r\n\r\n" % (
                self.status, "\r\n".join(keep))
            self.sock.sendto(resp.encode(), addr)

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()
