#!/usr/bin/env python3
"""A subscriber of the registration event package (RFC 3680 §3) for
reg_subscribe.sh: a real SIP UA over UDP that subscribes, answers every
NOTIFY, can refresh or end its subscription, and logs what it gets as JSON
lines (one per response or NOTIFY; NOTIFY bodies also in files for
xmllint).

  reg_subscriber.py --bind ADDR --to ADDR:PORT --aor URI --log FILE
                    --run SECONDS [--expires N] [--accept TYPE]
                    [--end-after-notifies N] [--refresh-after-notifies N]
                    [--refresh-expires N] [--answer-481-from N]
                    [--bad-tag] [--event NAME]
"""
import argparse
import json
import re
import socket
import time


def header(msg, name):
    m = re.search(r'(?mi)^%s\s*:\s*(.*)$' % re.escape(name), msg.split('\r\n\r\n')[0])
    return m.group(1).strip() if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bind', required=True)
    ap.add_argument('--to', required=True)
    ap.add_argument('--aor', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--run', type=float, required=True)
    ap.add_argument('--expires', type=int, default=120)
    ap.add_argument('--accept', default='application/reginfo+xml')
    ap.add_argument('--event', default='reg')
    ap.add_argument('--end-after-notifies', type=int, default=0)
    ap.add_argument('--refresh-after-notifies', type=int, default=0)
    ap.add_argument('--refresh-expires', type=int, default=120)
    ap.add_argument('--answer-481-from', type=int, default=0)
    ap.add_argument('--bad-tag', action='store_true')
    a = ap.parse_args()

    host, port = a.to.rsplit(':', 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, 0))
    s.settimeout(0.2)
    me = '%s:%d' % (a.bind, s.getsockname()[1])
    call_id = 'sub-%d-%s' % (int(time.time() * 1000), s.getsockname()[1])
    log = open(a.log, 'a')
    state = {'cseq': 0, 'to_tag': None, 'ruri': a.aor}

    def subscribe(expires, in_dialog):
        state['cseq'] += 1
        tag = state['to_tag']
        if in_dialog and a.bad_tag:
            tag = 'not-ours'
        msg = ('SUBSCRIBE %s SIP/2.0\r\n'
               'Via: SIP/2.0/UDP %s;branch=z9hG4bKsub%d%d;rport\r\n'
               'Max-Forwards: 70\r\n'
               'From: <sip:watcher@%s>;tag=w%s\r\n'
               'To: <%s>%s\r\n'
               'Call-ID: %s\r\n'
               'CSeq: %d SUBSCRIBE\r\n'
               'Contact: <sip:watcher@%s>\r\n'
               'Event: %s\r\n'
               '%s'
               'Expires: %d\r\n'
               'Content-Length: 0\r\n\r\n') % (
                   state['ruri'] if in_dialog else a.aor, me, state['cseq'],
                   int(time.time() * 1000), a.bind, s.getsockname()[1], a.aor,
                   (';tag=' + tag) if in_dialog else '', call_id, state['cseq'], me,
                   a.event, ('Accept: %s\r\n' % a.accept) if a.accept else '', expires)
        s.sendto(msg.encode(), (host, int(port)))

    subscribe(a.expires, False)
    notifies = 0
    end = time.time() + a.run
    while time.time() < end:
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        msg = data.decode(errors='replace')
        if msg.startswith('SIP/2.0 '):
            status = int(msg.split()[1])
            if status < 200:
                continue
            to = header(msg, 'To') or ''
            m = re.search(r';tag=([^;>\s]+)', to)
            if m and state['to_tag'] is None and status < 300:
                state['to_tag'] = m.group(1)
                c = re.search(r'<([^>]+)>', header(msg, 'Contact') or '')
                if c:
                    state['ruri'] = c.group(1)
            log.write(json.dumps({'kind': 'response', 'status': status,
                                  'cseq': header(msg, 'CSeq'),
                                  'expires': header(msg, 'Expires'),
                                  'to': to, 'contact': header(msg, 'Contact'),
                                  'accept': header(msg, 'Accept')}) + '\n')
            log.flush()
            continue
        head, _, body = msg.partition('\r\n\r\n')
        lines = head.split('\r\n')
        method = lines[0].split()[0]
        notifies += 1
        answer = 481 if a.answer_481_from and notifies >= a.answer_481_from else 200
        keep = [h for h in lines[1:] if re.match(r'(?i)^(via|v|from|f|to|t|call-id|i|cseq)\s*:', h)]
        s.sendto(('SIP/2.0 %d %s\r\n%s\r\nContent-Length: 0\r\n\r\n' % (
            answer, 'OK' if answer == 200 else 'Call/Transaction Does Not Exist',
            '\r\n'.join(keep))).encode(), src)
        path = '%s.body.%d' % (a.log, notifies)
        with open(path, 'w') as f:
            f.write(body)
        log.write(json.dumps({'kind': 'request', 'method': method, 'n': notifies,
                              'ruri': lines[0].split()[1],
                              'call_id': header(msg, 'Call-ID'), 'cseq': header(msg, 'CSeq'),
                              'from': header(msg, 'From'), 'to': header(msg, 'To'),
                              'event': header(msg, 'Event'),
                              'state': header(msg, 'Subscription-State'),
                              'type': header(msg, 'Content-Type'),
                              'answered': answer, 'body': path}) + '\n')
        log.flush()
        if a.refresh_after_notifies and notifies == a.refresh_after_notifies:
            subscribe(a.refresh_expires, True)
        if a.end_after_notifies and notifies == a.end_after_notifies:
            subscribe(0, True)


if __name__ == '__main__':
    main()
