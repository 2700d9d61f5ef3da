#!/usr/bin/env python3
"""A DNS forwarder that can be slow or silent, and a DNS query tool, for
the integration tests (dns_lib.sh). Python 3 standard library only.

    slowdns.py serve --port P --upstream HOST:PORT [--listen ADDR]
                     [--delay-match REGEX --delay-ms N [--delay-type T,...]]
                     [--drop-match REGEX [--drop-type T,...]]
                     [--log FILE]

Listens on ADDR:P (UDP; ADDR 127.0.0.1 by default) and forwards every
query unchanged to the upstream server (dnsmasq), each on its own socket
so that one query waiting (delayed, or its upstream slow) holds up no
other. A query whose name matches --delay-match (re.search, case-
insensitive, on the name in lower case without the final dot) and, with
--delay-type, whose type is listed, is forwarded N ms late; one matching
--drop-match (and --drop-type) is never answered. Each query is one line
in the log, written when it arrives:

    NAME TYPE ACTION MS      e.g. "sip.example.test NAPTR delay 1733400000123"

ACTION: fwd, delay or drop; MS: arrival, ms since the epoch. An upstream
that does not answer within 5 s is given up (the client sees a timeout).
UDP only: answers fit (EDNS0), and the resolvers tested fall back to TCP
only for a truncated answer.

    slowdns.py query --server HOST:PORT [--timeout S] NAME TYPE

Sends one query (RD set) and prints the answer:

    ;; status: NOERROR flags: qr aa rd ra answers: 2 time_ms: 3
    sip.example.test. 60 NAPTR 10 100 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .
    ; authority: test. 60 SOA ...

one line per record (owner, TTL, type, data; A, AAAA, SRV "priority
weight port target", NAPTR "order preference "flags" "service" "regexp"
replacement", CNAME, NS, PTR, SOA, TXT, others in hex). Character
strings are printed between quotes as they are, except bytes outside
printable ASCII as \\DDD, so a regexp reads as it was written. Exits 0 on
an answer, whatever its status; 2 (printing ";; timeout") when none came
within S seconds (default 2).
"""
import argparse
import asyncio
import random
import re
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "NAPTR": 35, "OPT": 41, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
UPSTREAM_TIMEOUT = 5.0


def type_name(t):
    return TYPE_NAMES.get(t, "TYPE%d" % t)


def type_code(s):
    s = s.upper()
    if s in TYPES:
        return TYPES[s]
    if s.startswith("TYPE") and s[4:].isdigit():
        return int(s[4:])
    raise argparse.ArgumentTypeError("unknown type %s" % s)


def hostport(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


# ---- wire format (RFC 1035 §4) ------------------------------------------

def read_name(msg, off):
    """(name without the final dot, offset after it); follows compression
    pointers, at most 64 of them (a loop is an error)."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(msg):
            raise ValueError("name past the end")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("pointer past the end")
            jumps += 1
            if jumps > 64:
                raise ValueError("compression loop")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n & 0xC0:
            raise ValueError("bad label type")
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    return ".".join(labels), end if end is not None else off


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    """(name in lower case, type) of the first question."""
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] < 1:
        raise ValueError("no question")
    name, off = read_name(msg, 12)
    qtype, = struct.unpack("!H", msg[off:off + 2])
    return name.lower(), qtype


def quoted(b):
    s = "".join(chr(c) if 32 <= c < 127 else "\\%03d" % c for c in b)
    return '"%s"' % s


def char_strings(rd):
    out, off = [], 0
    while off < len(rd):
        n = rd[off]
        out.append(rd[off + 1:off + 1 + n])
        off += 1 + n
    return out


def rdata_text(msg, rtype, off, rdlen):
    rd = msg[off:off + rdlen]
    if rtype == 1 and rdlen == 4:
        return socket.inet_ntop(socket.AF_INET, rd)
    if rtype == 28 and rdlen == 16:
        return socket.inet_ntop(socket.AF_INET6, rd)
    if rtype in (2, 5, 12):
        return read_name(msg, off)[0] + "."
    if rtype == 15:
        return "%d %s." % (struct.unpack("!H", rd[:2])[0], read_name(msg, off + 2)[0])
    if rtype == 33:
        prio, weight, port = struct.unpack("!HHH", rd[:6])
        return "%d %d %d %s." % (prio, weight, port, read_name(msg, off + 6)[0])
    if rtype == 35:
        order, pref = struct.unpack("!HH", rd[:4])
        p, fields = off + 4, []
        for _ in range(3):
            n = msg[p]
            fields.append(quoted(msg[p + 1:p + 1 + n]))
            p += 1 + n
        repl = read_name(msg, p)[0]
        return "%d %d %s %s." % (order, pref, " ".join(fields), repl)
    if rtype == 6:
        mname, p = read_name(msg, off)
        rname, p = read_name(msg, p)
        return "%s. %s. %d %d %d %d %d" % ((mname, rname) + struct.unpack("!IIIII", msg[p:p + 20]))
    if rtype == 16:
        return " ".join(quoted(s) for s in char_strings(rd))
    return "\\# %d %s" % (rdlen, rd.hex())


def parse_response(msg):
    """(rcode, flags text, answers, authority): records as text lines."""
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    names = [("qr", 15), ("aa", 10), ("tc", 9), ("rd", 8), ("ra", 7)]
    ftext = " ".join(n for n, bit in names if flags & (1 << bit))
    off = 12
    for _ in range(qd):
        off = read_name(msg, off)[1] + 4
    sections = []
    for count in (an, ns):
        recs = []
        for _ in range(count):
            name, off = read_name(msg, off)
            rtype, _rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            recs.append("%s. %d %s %s" % (name, ttl, type_name(rtype),
                                          rdata_text(msg, rtype, off, rdlen)))
            off += rdlen
        sections.append(recs)
    return flags & 0xF, ftext, sections[0], sections[1]


# ---- query ---------------------------------------------------------------

def query(args):
    ident = random.randrange(65536)
    msg = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + encode_name(args.name) + \
        struct.pack("!HH", args.type, 1)
    server = hostport(args.server)
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    s.sendto(msg, server)
    deadline = t0 + args.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print(";; timeout time_ms: %d" % ((time.monotonic() - t0) * 1000))
            return 2
        s.settimeout(left)
        try:
            resp, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        except ConnectionRefusedError:
            print(";; refused (nothing listening) time_ms: %d" % ((time.monotonic() - t0) * 1000))
            return 2
        if len(resp) >= 12 and struct.unpack("!H", resp[:2])[0] == ident:
            break
    ms = (time.monotonic() - t0) * 1000
    rcode, ftext, answers, authority = parse_response(resp)
    print(";; status: %s flags: %s answers: %d time_ms: %d"
          % (RCODES.get(rcode, "RCODE%d" % rcode), ftext, len(answers), ms))
    for r in answers:
        print(r)
    for r in authority:
        print("; authority: " + r)
    return 0


# ---- forwarder -----------------------------------------------------------

class Upstream(asyncio.DatagramProtocol):
    def __init__(self, fut):
        self.fut = fut

    def datagram_received(self, data, addr):
        if not self.fut.done():
            self.fut.set_result(data)

    def error_received(self, exc):
        if not self.fut.done():
            self.fut.set_exception(exc)


class Forwarder(asyncio.DatagramProtocol):
    def __init__(self, args, log):
        self.args, self.log, self.transport = args, log, None
        self.delay_re = re.compile(args.delay_match, re.I) if args.delay_match else None
        self.drop_re = re.compile(args.drop_match, re.I) if args.drop_match else None
        self.tasks = set()

    def connection_made(self, transport):
        self.transport = transport

    @staticmethod
    def matches(rx, types, name, qtype):
        return rx is not None and rx.search(name) and (not types or qtype in types)

    def datagram_received(self, data, addr):
        try:
            name, qtype = parse_question(data)
        except (ValueError, IndexError, struct.error):
            name, qtype = "?", 0
        a = self.args
        if self.matches(self.drop_re, a.drop_type, name, qtype):
            action, delay = "drop", None
        elif self.matches(self.delay_re, a.delay_type, name, qtype):
            action, delay = "delay", a.delay_ms / 1000.0
        else:
            action, delay = "fwd", 0.0
        if self.log:
            self.log.write("%s %s %s %d\n" % (name, type_name(qtype), action, time.time() * 1000))
            self.log.flush()
        if delay is None:
            return
        task = asyncio.get_running_loop().create_task(self.forward(data, addr, delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def forward(self, data, addr, delay):
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        up = hostport(self.args.upstream)
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: Upstream(fut), remote_addr=up)
        except OSError:
            return
        try:
            transport.sendto(data)
            resp = await asyncio.wait_for(fut, UPSTREAM_TIMEOUT)
            self.transport.sendto(resp, addr)
        except (asyncio.TimeoutError, OSError):
            pass
        finally:
            transport.close()


def serve(args):
    log = open(args.log, "a") if args.log else None

    async def main():
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: Forwarder(args, log),
                                            local_addr=(args.listen, args.port))
        await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


def type_list(s):
    return {type_code(t) for t in s.split(",") if t}


def main(argv):
    p = argparse.ArgumentParser(description="slow DNS forwarder and query tool")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--listen", default="127.0.0.1")
    s.add_argument("--upstream", required=True, help="HOST:PORT")
    s.add_argument("--delay-match")
    s.add_argument("--delay-ms", type=int, default=0)
    s.add_argument("--delay-type", type=type_list, default=set())
    s.add_argument("--drop-match")
    s.add_argument("--drop-type", type=type_list, default=set())
    s.add_argument("--log")
    q = sub.add_parser("query")
    q.add_argument("--server", required=True, help="HOST:PORT")
    q.add_argument("--timeout", type=float, default=2.0)
    q.add_argument("name")
    q.add_argument("type", type=type_code)
    args = p.parse_args(argv)
    return serve(args) if args.cmd == "serve" else query(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
