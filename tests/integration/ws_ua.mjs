// ws_ua.mjs: a SIP user agent over WebSocket (RFC 7118) for websocket.sh,
// built on SIP.js (UserAgent, Registerer, Inviter, Invitation) over the ws
// package, as a browser softphone would talk to Junction.
//
//   node ws_ua.mjs [OPTIONS] SERVER AOR PASSWORD register-and-answer
//   node ws_ua.mjs [OPTIONS] SERVER AOR PASSWORD call TARGET
//
// SERVER is ws://HOST:PORT or wss://HOST:PORT, AOR user@domain (the user
// is also the digest user name), TARGET a SIP URI. Options:
//   --calls N      register-and-answer: ends after N calls ended (1)
//   --timeout S    fails (exit 2) when the whole run takes longer (30)
//   --hold MS      call: how long the call lasts before our BYE (1000)
//   --ca FILE      wss: trust the CA in FILE (PEM)
//
// What happened goes to stdout, one word a line, written as it happens
// (stdout is synchronous on Linux pipes and files), so that the test can
// compare the whole sequence:
//   register-and-answer: registered, then per call answered (200 sent),
//     ack-received, bye-received (the remote hung up, our 200 sent),
//     call-ended; after the last call unregistered, then exit 0.
//   call: registered, established (2xx to our INVITE, ACK sent), bye-ok
//     (200 to our BYE), unregistered, then exit 0.
// Anything else (a refusal, a call that ends otherwise, the WebSocket
// closing under us) prints "FAIL: why" on stderr and exits 1; a timeout
// exits 2. SIP.js's log, with every SIP message, goes to stderr.
//
// Node has no WebRTC, so calls use a SessionDescriptionHandler of our own
// (SIP.js's extension point for other media stacks): it offers and answers
// a fixed audio SDP and takes any remote description. No media flows.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// The packages are in node/ next to this file (node/package-lock.json,
// installed by admin/install-deps), not in a node_modules above it.
const require = createRequire(new URL("./node/package.json", import.meta.url));
const WebSocket = require("ws");
const SIP = await import(pathToFileURL(require.resolve("sip.js")).href);
const { UserAgent, Registerer, RegistererState, Inviter, SessionState } = SIP;

function usage() {
	process.stderr.write(
		"usage: ws_ua.mjs [--calls N] [--timeout S] [--hold MS] [--ca FILE] " +
			"SERVER AOR PASSWORD register-and-answer | call TARGET\n"
	);
	process.exit(64);
}

const opts = { calls: 1, timeout: 30, hold: 1000, ca: null };
const args = [];
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	const num = () => {
		const v = Number(process.argv[++i]);
		if (!Number.isInteger(v) || v < 1) usage();
		return v;
	};
	if (a === "--calls") opts.calls = num();
	else if (a === "--timeout") opts.timeout = num();
	else if (a === "--hold") opts.hold = num();
	else if (a === "--ca") opts.ca = process.argv[++i];
	else if (a.startsWith("--")) usage();
	else args.push(a);
}
const [server, aor, password, mode, target] = args;
if (!server || !aor || !password || !(mode === "register-and-answer" ? args.length === 4 : mode === "call" && args.length === 5))
	usage();

let stopping = false;
const out = (line) => process.stdout.write(line + "\n");
function die(why, code = 1) {
	process.stderr.write(`ws_ua: FAIL: ${why}\n`);
	process.exit(code);
}
setTimeout(() => die(`timeout after ${opts.timeout} s`, 2), opts.timeout * 1000);
process.on("unhandledRejection", (e) => die(`unhandled rejection: ${e && e.stack ? e.stack : e}`));
process.on("uncaughtException", (e) => die(`uncaught exception: ${e && e.stack ? e.stack : e}`));

// SIP.js's transport calls new WebSocket(server, "sip"), a browser's
// global; ws's class has the same events. For wss, a class that adds the
// test CA to what the TLS client trusts.
if (opts.ca) {
	const ca = readFileSync(opts.ca);
	globalThis.WebSocket = class extends WebSocket {
		constructor(url, protocols) {
			super(url, protocols, { ca });
		}
	};
} else {
	globalThis.WebSocket = WebSocket;
}

// A fixed audio description (RFC 4566): PCMU to a port nobody listens on.
const SDP =
	["v=0", `o=- ${Date.now()} 1 IN IP4 127.0.0.1`, "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 49170 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendrecv"].join("\r\n") + "\r\n";

class FixedSdh {
	getDescription() {
		return Promise.resolve({ body: SDP, contentType: "application/sdp" });
	}
	setDescription(sdp) {
		this.remote = sdp;
		return Promise.resolve();
	}
	hasDescription(contentType) {
		return contentType === "application/sdp";
	}
	close() {}
	sendDtmf() {
		return false;
	}
}

const user = aor.split("@")[0];
const uri = UserAgent.makeURI(`sip:${aor}`);
if (!uri) die(`bad AOR ${aor}`);

let answered = 0;
let ended = 0;

const ua = new UserAgent({
	uri,
	authorizationUsername: user,
	authorizationPassword: password,
	transportOptions: { server, traceSip: true, connectionTimeout: 5 },
	logBuiltinEnabled: false,
	logLevel: "log",
	logConnector: (level, category, label, content) =>
		process.stderr.write(`${new Date().toISOString()} ${level} ${category} ${content}\n`),
	sessionDescriptionHandlerFactory: () => new FixedSdh(),
	delegate: {
		onDisconnect: (error) => {
			if (!stopping) die(`WebSocket closed: ${error ? error.message : "no error"}`);
		},
		onInvite: (invitation) => {
			if (mode !== "register-and-answer") {
				invitation.reject().catch(() => {});
				die("INVITE in call mode");
			}
			if (answered !== ended) die("a second INVITE during a call");
			answered++;
			let acked = false;
			let byed = false;
			invitation.delegate = {
				onAck: () => {
					acked = true;
					out("ack-received");
				},
				onBye: (bye) => {
					if (!acked) die("BYE before the ACK");
					byed = true;
					// the 200 goes out within accept(), before it returns
					bye.accept().catch((e) => die(`answering the BYE: ${e}`));
					out("bye-received");
				}
			};
			invitation.stateChange.addListener((state) => {
				if (state === SessionState.Established) out("answered");
				if (state !== SessionState.Terminated) return;
				if (!byed) die("the call ended without a BYE from the remote side");
				out("call-ended");
				if (++ended === opts.calls) finish();
			});
			invitation.accept().catch((e) => die(`accepting the INVITE: ${e}`));
		}
	}
});

const registerer = new Registerer(ua, { expires: 600 });

// Unregisters (200 expected), stops the user agent, exits 0.
function finish() {
	registerer.stateChange.addListener((state) => {
		if (state !== RegistererState.Unregistered) return;
		out("unregistered");
		stopping = true;
		ua.stop().then(
			() => process.exit(0),
			(e) => die(`stopping: ${e}`)
		);
	});
	registerer
		.unregister({
			requestDelegate: {
				onReject: (r) => die(`un-REGISTER refused: ${r.message.statusCode} ${r.message.reasonPhrase}`)
			}
		})
		.catch((e) => die(`un-REGISTER: ${e}`));
}

function call() {
	const to = UserAgent.makeURI(target);
	if (!to) die(`bad target ${target}`);
	const inviter = new Inviter(ua, to);
	let byeSent = false;
	inviter.stateChange.addListener((state) => {
		if (state === SessionState.Established) {
			out("established");
			setTimeout(() => {
				byeSent = true;
				inviter
					.bye({
						requestDelegate: {
							onAccept: () => {
								out("bye-ok");
								finish();
							},
							onReject: (r) => die(`BYE refused: ${r.message.statusCode} ${r.message.reasonPhrase}`)
						}
					})
					.catch((e) => die(`BYE: ${e}`));
			}, opts.hold);
		}
		if (state === SessionState.Terminated && !byeSent) die("the call ended before our BYE");
	});
	inviter
		.invite({
			requestDelegate: {
				onReject: (r) => die(`INVITE refused: ${r.message.statusCode} ${r.message.reasonPhrase}`)
			}
		})
		.catch((e) => die(`INVITE: ${e}`));
}

let registered = false;
registerer.stateChange.addListener((state) => {
	if (state !== RegistererState.Registered || registered) return;
	registered = true;
	out("registered");
	if (mode === "call") call();
});

await ua.start().catch((e) => die(`connecting to ${server}: ${e}`));
registerer
	.register({
		requestDelegate: {
			onReject: (r) => die(`REGISTER refused: ${r.message.statusCode} ${r.message.reasonPhrase}`)
		}
	})
	.catch((e) => die(`REGISTER: ${e}`));
