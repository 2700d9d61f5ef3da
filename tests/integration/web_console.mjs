// web_console.mjs: the browser half of web_console.sh. Headless Chromium
// (puppeteer-core from node/, installed by admin/install-deps) opens the
// console at /ui, logs in, and on every view compares what the page shows
// with what the API answers to this script at the same moment; a check
// that does not hold yet is tried again until one refresh of the view
// (5 s) has certainly happened. Then the phone viewport (390x844): no
// view may be wider than the screen. Screenshots of each view, desktop
// and phone, go to WC_SHOTS.
//
// Environment (set by web_console.sh):
//   WC_URL           the admin API, http://127.0.0.1:PORT
//   WC_TOKEN         its token
//   WC_SIP_PORT      the node's SIP port (UDP), for traffic the rates show
//   WC_SHOTS         the screenshot folder
//   WC_PROFILE       Chromium's user data folder (in the test's folder)
//   WC_BROWSER       the Chromium binary
//   WC_BROWSER_PID_FILE  where the browser's pid goes (the test kills it
//                    if this script could not close it)
//   WC_AOR           an AOR with bindings
//   WC_XSS, WC_XSS_SESSION  markup a session's node name holds, that session's id
//   WC_ENDED_SESSION an ended session's id
//   WC_WARNING       text of a warning the node logged (a wrong token)
//
// Prints "ok: ..." and "FAIL: ..." lines; exits with 0 when every check
// held, 1 otherwise, 2 on an error of its own.

import { createRequire } from "node:module";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";

// The packages are in node/ next to this file (node/package-lock.json).
const require = createRequire(new URL("./node/package.json", import.meta.url));
const pptr = require("puppeteer-core");
const puppeteer = pptr.default || pptr;

const env = (k) => {
	const v = process.env[k];
	if (v === undefined) {
		console.error(`FAIL: ${k} is not set`);
		process.exit(2);
	}
	return v;
};
const URL_ = env("WC_URL");
const ORIGIN = new URL(URL_).origin;
const TOKEN = env("WC_TOKEN");
const SIP_PORT = Number(env("WC_SIP_PORT"));
const SHOTS = env("WC_SHOTS");
const AOR = env("WC_AOR");
const XSS = env("WC_XSS");
const XSS_SESSION = Number(env("WC_XSS_SESSION"));
const ENDED_SESSION = Number(env("WC_ENDED_SESSION"));
const WARNING = env("WC_WARNING");
const RETRY_MS = 12000;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const CSP =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let fails = 0;
const T0 = Date.now();
const stamp = () => `${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s`;
const ok = (m) => console.log(`${stamp()} ok: ${m}`);
const bad = (m) => {
	fails++;
	console.log(`${stamp()} FAIL: ${m}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// The API as this script sees it.
async function api(p, token = TOKEN) {
	const res = await fetch(URL_ + p, { headers: { Authorization: `Bearer ${token}` } });
	const body = await res.json();
	return { status: res.status, body };
}

// check(what, fn): fn returns [true, detail] or [false, detail]; tried
// until it holds or RETRY_MS passed (the view refreshes every 5 s).
async function check(what, fn, ms = RETRY_MS) {
	const end = Date.now() + ms;
	let last = "";
	for (;;) {
		try {
			const [good, detail] = await fn();
			if (good) {
				ok(`${what}${detail ? `: ${detail}` : ""}`);
				return true;
			}
			last = detail;
		} catch (e) {
			last = `error: ${e.message}`;
		}
		if (Date.now() > end) {
			bad(`${what}: ${last}`);
			return false;
		}
		await sleep(250);
	}
}

// SIP OPTIONS to the node over UDP, RATE a second for MS: traffic for the
// live rates.
function sipTraffic(rate, ms) {
	const sock = dgram.createSocket("udp4");
	let n = 0;
	const send = () => {
		n++;
		const msg = [
			`OPTIONS sip:127.0.0.1:${SIP_PORT} SIP/2.0`,
			`Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKwc${process.pid}x${n};rport`,
			"Max-Forwards: 70",
			`From: <sip:probe@example.com>;tag=wc${n}`,
			`To: <sip:127.0.0.1:${SIP_PORT}>`,
			`Call-ID: wc-${process.pid}-${n}@test`,
			"CSeq: 1 OPTIONS",
			"Content-Length: 0",
			"",
			"",
		].join("\r\n");
		sock.send(msg, SIP_PORT, "127.0.0.1");
	};
	const timer = setInterval(send, 1000 / rate);
	return new Promise((resolve) =>
		setTimeout(() => {
			clearInterval(timer);
			sock.close();
			resolve(n);
		}, ms),
	);
}

const browser = await puppeteer.launch({
	executablePath: env("WC_BROWSER"),
	headless: true,
	userDataDir: env("WC_PROFILE"),
	args: [
		"--headless=new",
		"--no-sandbox",
		"--disable-gpu",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-extensions",
	],
});
fs.writeFileSync(env("WC_BROWSER_PID_FILE"), String(browser.process().pid));

let phase = "start";
const consoleErrors = [];
const outside = [];
const noAuth = [];
const v1Requests = [];

try {
	const page = await browser.newPage();
	page.setDefaultTimeout(10000);
	await page.setViewport(DESKTOP);
	page.on("console", (m) => {
		if (m.type() === "error") consoleErrors.push({ phase, text: m.text() });
	});
	page.on("pageerror", (e) => consoleErrors.push({ phase, text: `uncaught: ${e.message}` }));
	page.on("request", (r) => {
		const u = new URL(r.url());
		if (u.protocol === "data:") return;
		if (u.origin !== ORIGIN) {
			outside.push(r.url());
			return;
		}
		if (u.pathname.startsWith("/v1/")) {
			v1Requests.push(u.pathname);
			const a = r.headers().authorization || "";
			if (!/^Bearer \S+$/.test(a)) noAuth.push(r.url());
		}
	});

	const shot = async (name) => {
		const file = path.join(SHOTS, `${name}.png`);
		await page.screenshot({ path: file, fullPage: true });
	};
	const visible = (sel) => page.$eval(sel, (e) => !e.hidden && e.getClientRects().length > 0);
	const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
	const onlyView = async (id) =>
		page.$$eval(".view", (vs, id) => vs.filter((v) => !v.hidden).map((v) => v.id).join(" ") === id, id);
	// The rows of the table in sel: key and every cell's text by column.
	const rows = (sel) =>
		page.$$eval(`${sel} tbody tr`, (trs) =>
			trs.map((tr) => ({
				key: tr.dataset.key,
				cells: Object.fromEntries(
					Array.from(tr.cells).map((td) => [td.dataset.col, td.textContent.trim()]),
				),
				states: Object.fromEntries(
					Array.from(tr.querySelectorAll("[data-state]")).map((e) => [
						e.closest("td").dataset.col,
						e.dataset.state,
					]),
				),
				// the exact time of each <time>, by column
				times: Object.fromEntries(
					Array.from(tr.querySelectorAll("time")).map((e) => [
						e.closest("td").dataset.col,
						e.getAttribute("datetime"),
					]),
				),
				badges: Object.fromEntries(
					Array.from(tr.querySelectorAll("[data-state] .badge")).map((e) => [
						e.closest("td").dataset.col,
						e.textContent,
					]),
				),
			})),
		);
	const errorBox = (view) =>
		page.$eval(`#view-${view} .error`, (e) => (e.hidden ? "" : e.textContent.trim()));
	const go = async (view) => {
		await page.click(`#nav a[data-view="${view}"]`);
		await page.waitForFunction((v) => !document.getElementById(`view-${v}`).hidden, {}, view);
	};

	// ---- the page and its headers -------------------------------------
	phase = "load";
	const resp = await page.goto(`${URL_}/ui`, { waitUntil: "networkidle0" });
	const chain = resp.request().redirectChain();
	if (resp.status() === 200 && resp.url() === `${URL_}/ui/` && chain.length === 1 &&
		chain[0].response().status() === 301)
		ok("/ui redirects to /ui/, which loads");
	else bad(`/ui: ${resp.status()} ${resp.url()} after ${chain.length} redirects`);
	const h = resp.headers();
	if (h["content-security-policy"] === CSP && h["x-content-type-options"] === "nosniff" &&
		h["referrer-policy"] === "no-referrer" && h["content-type"] === "text/html; charset=utf-8")
		ok("the page's CSP, nosniff, no-referrer, text/html; charset=utf-8");
	else bad(`page headers: ${JSON.stringify(h)}`);

	// ---- login ---------------------------------------------------------
	phase = "login";
	if ((await onlyView("view-login")) && !(await visible("#nav")) && !(await visible("#logout")))
		ok("login view first: no navigation, no logout, no other view");
	else bad("the login view is not alone at start");
	await shot("login-desktop");

	phase = "login-wrong"; // the 401 of the wrong token is expected here
	const wrong = await api("/v1/status", "wrong-token-0123456789abcdef");
	await page.type("#token", "wrong-token-0123456789abcdef");
	await page.click("#login-form button[type=submit]");
	await check("a wrong token: refused with the API's message, still at login", async () => {
		const m = await text("#login-msg");
		const stored = await page.evaluate(() => sessionStorage.length);
		return [m.includes("refused") && m.includes(wrong.body.error.message) &&
			(await onlyView("view-login")) && stored === 0, m];
	});

	phase = "views";
	await page.$eval("#token", (e) => { e.value = ""; });
	await page.type("#token", TOKEN);
	await page.click("#login-form button[type=submit]");
	await page.waitForFunction(() => !document.getElementById("view-node").hidden);
	await check("logged in: the node view, the token in sessionStorage only", async () => {
		const [hash, stored, local] = await page.evaluate(() =>
			[location.hash, Object.values(sessionStorage), localStorage.length]);
		return [hash === "#/node" && same(stored, [TOKEN]) && local === 0 &&
			(await visible("#nav")) && (await visible("#logout")), `${hash}`];
	});

	// ---- node ----------------------------------------------------------
	const status = (await api("/v1/status")).body;
	await check("node: name, version, mode, start, database as /v1/status", async () => {
		const s = (await api("/v1/status")).body;
		const got = await page.evaluate(() => {
			const v = (k) => document.querySelector(`#view-node dd[data-k="${k}"]`).textContent;
			return {
				node: v("node"), version: v("version"), mode: v("mode"),
				started_at: document.querySelector('#view-node dd[data-k="started_at"] time').getAttribute("datetime"),
				db_state: v("db_state"), db_primary: v("db_primary"), db_failovers: v("db_failovers"),
				bindings: v("bindings"), top: document.getElementById("top-node").textContent,
				listeners: Array.from(document.querySelectorAll("#listeners li")).map((l) => l.textContent),
				workers: document.getElementById("workers").textContent,
				tls: document.querySelector('#tls [data-k="tls_subject"]').textContent,
			};
		});
		const want = {
			node: s.node, version: s.version, mode: s.mode, started_at: s.started_at,
			db_state: s.database.state, db_primary: s.database.primary ?? "—",
			db_failovers: String(s.database.failovers), bindings: String(s.bindings), top: s.node,
			listeners: s.listeners.map((l) => l.listen),
			workers: `${s.workers.length} workers; queue depths: ${s.workers.map((w) => w.queue_depth).join(" ")}`,
			tls: "none (no tls: or wss: listener)",
		};
		return [same(got, want), `${JSON.stringify(got)} want ${JSON.stringify(want)}`];
	});
	await check("node: the peers of /v1/nodes, alive, this node marked", async () => {
		const n = (await api("/v1/nodes")).body.nodes;
		const got = (await rows("#peers")).map((r) => [r.key, r.cells.alive, r.cells.version,
			r.cells.name, r.cells.admin_listen, r.times.last_seen]);
		const want = n.map((x) => [x.name, x.alive ? "alive" : "down", x.version,
			x.self ? `${x.name} this node` : x.name, x.admin_listen ?? "—", x.last_seen]);
		return [n.length >= 2 && same(got, want) && n.some((x) => !x.self),
			`${JSON.stringify(got)} want ${JSON.stringify(want)}`];
	});
	if (status.tls === null) ok("node: no TLS certificate, as /v1/status says");

	const sent = sipTraffic(25, 5000);
	await check("node: live rates from /v1/stats under SIP traffic (requests/s, OPTIONS/s, sparkline)", async () => {
		const st = (await api("/v1/stats")).body;
		const got = await page.evaluate(() => {
			const num = (e) => (e ? Number(e.textContent) : NaN);
			return {
				req: num(document.querySelector('[data-k="rate_requests"]')),
				resp: num(document.querySelector('[data-k="rate_responses"]')),
				options: num(document.querySelector('#rate-methods [data-method="OPTIONS"] .chip-v')),
				methods: Array.from(document.querySelectorAll("#rate-methods [data-method]")).map((d) => d.dataset.method),
				classes: Array.from(document.querySelectorAll("#rate-classes [data-class]")).map((d) => d.dataset.class),
				points: (document.querySelector('[data-k="spark_requests"] polyline')?.getAttribute("points") || "")
					.split(" ").filter(Boolean).length,
			};
		});
		return [got.req > 0 && got.resp > 0 && got.options > 0 && got.points >= 2 &&
			same(got.methods, Object.keys(st.requests_received).filter((k) => st.requests_received[k] > 0)) &&
			same(got.classes, Object.keys(st.responses_sent)),
			JSON.stringify(got)];
	}, 15000);
	log(`(${await sent} OPTIONS sent)`);
	await shot("node-desktop");

	// ---- Session Controllers -------------------------------------------
	await go("sip-servers");
	await check("Session Controllers: one row per server, each node's state as /v1/sip-servers", async () => {
		const s = (await api("/v1/sip-servers")).body.sip_servers;
		const got = (await rows("#sc-table")).map((r) => ({ key: r.key, dc: r.cells.geo_location,
			states: r.states, shown: r.badges }));
		const want = s.map((x) => {
			const states = Object.fromEntries(x.nodes.map((n) => [`node:${n.node}`, n.state]));
			return { key: x.name, dc: x.geo_location, states, shown: states };
		});
		return [s.length === 3 && same(got, want), `${JSON.stringify(got)} want ${JSON.stringify(want)}`];
	});
	await check("Session Controllers: the reasons of the out-of-service views", async () => {
		const s = (await api("/v1/sip-servers")).body.sip_servers;
		const reasons = s.flatMap((x) => x.nodes.filter((n) => n.reason).map((n) => [x.name, n.node, n.reason]));
		const shown = await page.$$eval("#sc-table tbody tr", (trs) => trs.flatMap((tr) =>
			Array.from(tr.querySelectorAll(".reason")).map((e) =>
				[tr.dataset.key, e.closest("td").dataset.col.slice(5), e.textContent])));
		return [reasons.length > 0 && same(shown, reasons), JSON.stringify(shown)];
	});
	await shot("sip-servers-desktop");

	// ---- sessions ------------------------------------------------------
	await go("sessions");
	await check("sessions: the open ones, newest first, as /v1/sessions", async () => {
		const s = (await api("/v1/sessions")).body.items;
		const got = (await rows("#sessions-table")).map((r) => [r.key, r.cells.sip_server, r.cells.node, r.times.created]);
		const want = s.map((x) => [String(x.id), x.sip_server, x.node, x.created]);
		return [s.length >= 3 && !s.some((x) => x.id === ENDED_SESSION) && same(got, want), JSON.stringify(got)];
	});
	const xss = await page.evaluate((id) => {
		const tr = document.querySelector(`#sessions-table tr[data-key="${id}"]`);
		return {
			node: tr ? tr.querySelector('td[data-col="node"]').textContent : null,
			markup: document.querySelectorAll("#view-sessions img, #view-sessions [onerror]").length,
			ran: window.__xss === 1,
		};
	}, XSS_SESSION);
	if (xss.node === XSS && xss.markup === 0 && !xss.ran) ok("a node name that is markup shows as text and runs nothing");
	else bad(`markup in a value: ${JSON.stringify(xss)}`);
	await page.click('#sessions-form input[name="ended"]');
	await page.click("#sessions-form button[type=submit]");
	await check("sessions, ended too: as /v1/sessions?ended=yes", async () => {
		const s = (await api("/v1/sessions?ended=yes")).body.items;
		const got = (await rows("#sessions-table")).map((r) => [r.key, r.times.ended ?? r.cells.ended]);
		const want = s.map((x) => [String(x.id), x.ended ?? "—"]);
		const hash = await page.evaluate(() => location.hash);
		return [hash === "#/sessions?ended=yes" && s.some((x) => x.id === ENDED_SESSION) && same(got, want),
			`${hash} ${JSON.stringify(got)}`];
	});
	await shot("sessions-desktop");

	// ---- bindings ------------------------------------------------------
	await go("bindings");
	await check("bindings: every binding, as /v1/bindings", async () => {
		const b = (await api("/v1/bindings")).body.items;
		const got = (await rows("#bindings-table")).map((r) => [r.key, r.cells.aor, r.cells.contact, r.cells.node]);
		const want = b.map((x) => [String(x.id), x.aor, x.contact, x.node]);
		return [b.length === 3 && same(got, want), JSON.stringify(got)];
	});
	await page.type("#bindings-aor", AOR);
	await page.click("#bindings-form button[type=submit]");
	await check(`bindings: the search for ${AOR} shows its contacts, as /v1/bindings?aor=`, async () => {
		const b = (await api(`/v1/bindings?aor=${encodeURIComponent(AOR)}`)).body.items;
		const got = (await rows("#bindings-table")).map((r) => [r.key, r.cells.aor, r.cells.contact, r.cells.node]);
		const want = b.map((x) => [String(x.id), x.aor, x.contact, x.node]);
		const hash = await page.evaluate(() => decodeURIComponent(location.hash));
		return [b.length === 2 && same(got, want) && hash === `#/bindings?aor=${AOR}`,
			`${hash} ${JSON.stringify(got)}`];
	});
	await shot("bindings-desktop");
	await page.$eval("#bindings-aor", (e) => { e.value = ""; });
	await page.type("#bindings-aor", "sip:nobody@example.com");
	await page.click("#bindings-form button[type=submit]");
	await check("bindings: an unknown AOR shows no row and says so", async () => {
		const n = (await api("/v1/bindings?aor=sip:nobody@example.com")).body.items.length;
		const r = await rows("#bindings-table");
		const empty = await page.$eval("#bindings-table", (e) => e.querySelector(".empty")?.textContent || "");
		return [n === 0 && r.length === 0 && empty.includes("sip:nobody@example.com") &&
			(await errorBox("bindings")) === "", empty];
	});

	phase = "bad-aor"; // the 400 of a search that is not an AOR is expected here
	await page.$eval("#bindings-aor", (e) => { e.value = ""; });
	await page.type("#bindings-aor", "not-an-aor");
	await page.click("#bindings-form button[type=submit]");
	await check("bindings: a search that is not an AOR shows the API's error message", async () => {
		const a = await api("/v1/bindings?limit=50&aor=not-an-aor");
		const box = await errorBox("bindings");
		return [a.status === 400 && box.includes(a.body.error.message) && box.includes("HTTP 400") &&
			(await rows("#bindings-table")).length === 0, box];
	});

	// ---- errors --------------------------------------------------------
	await go("errors");
	phase = "views";
	await check("errors: newest first, as /v1/log?level=warn, the wrong token's warning among them", async () => {
		const l = (await api("/v1/log?level=warn&limit=200")).body.entries;
		const got = (await rows("#errors-table")).map((r) => [r.times.time, r.cells.level, r.cells.message]);
		const want = l.map((e) => [e.time, e.level, e.message]);
		return [l.some((e) => e.message.includes(WARNING)) && got.some((g) => g[2].includes(WARNING)) &&
			same(got, want), `${got.length} rows, API ${want.length}: ${JSON.stringify(got.slice(0, 2))}`];
	});
	await shot("errors-desktop");
	await page.select('#errors-form select[name="level"]', "error");
	await check("errors: errors only, as /v1/log?level=error", async () => {
		const l = (await api("/v1/log?level=error&limit=200")).body.entries;
		const got = (await rows("#errors-table")).map((r) => [r.times.time, r.cells.message]);
		const hash = await page.evaluate(() => location.hash);
		return [hash === "#/errors?level=error" && same(got, l.map((e) => [e.time, e.message])) &&
			got.every((g) => !g[1].includes(WARNING)), `${hash} ${got.length} rows`];
	});

	// ---- phone ---------------------------------------------------------
	await page.setViewport(PHONE);
	for (const [view, hash, ready] of [
		["node", "#/node", '#peers tbody tr'],
		["sip-servers", "#/sip-servers", "#sc-table tbody tr"],
		["sessions", "#/sessions", "#sessions-table tbody tr"],
		["bindings", `#/bindings?aor=${encodeURIComponent(AOR)}`, "#bindings-table tbody tr"],
		["errors", "#/errors", "#errors-table tbody tr"],
	]) {
		await page.evaluate((h) => { location.hash = h; }, hash);
		await page.waitForFunction((v) => !document.getElementById(`view-${v}`).hidden, {}, view);
		await page.waitForSelector(ready);
		if (view === "node")
			await page.waitForFunction(() => document.querySelector('[data-k="rate_requests"]').textContent !== "…");
		await sleep(100);
		const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.body.scrollWidth,
			window.innerWidth]);
		if (w[0] <= PHONE.width && w[1] <= PHONE.width) ok(`phone, ${view}: ${w[0]} px wide, no page-wide scroll`);
		else bad(`phone, ${view}: the page is ${w[0]} px wide (body ${w[1]}) at ${w[2]}`);
		const stacked = await page.$eval(`#view-${view} tbody tr`, (tr) => getComputedStyle(tr).display);
		if (stacked === "block") ok(`phone, ${view}: tables as stacked cards`);
		else bad(`phone, ${view}: table rows are display ${stacked}`);
		await shot(`${view}-phone`);
	}

	// ---- a refused token, logout ---------------------------------------
	phase = "refused"; // the 401 of the forged token is expected here
	await page.evaluate(() => sessionStorage.setItem("junction.console.token", "forged-token-0123456789abcdef"));
	await page.click('#nav a[data-view="sessions"]'); // its first request goes at once
	await check("a token refused mid-session: back to the login view with the API's message", async () => {
		const m = await text("#login-msg");
		return [(await onlyView("view-login")) && m.includes(wrong.body.error.message) &&
			(await page.evaluate(() => sessionStorage.length)) === 0, m];
	});
	await shot("login-phone");
	phase = "logout";
	await page.type("#token", TOKEN);
	await page.click("#login-form button[type=submit]");
	await page.waitForFunction(() => !document.getElementById("view-sessions").hidden);
	await page.click("#logout");
	await check("logout: the login view, the token forgotten, no more requests", async () => {
		const before = v1Requests.length;
		await page.evaluate(() => { location.hash = "#/node"; });
		await sleep(1500);
		return [(await onlyView("view-login")) && (await text("#login-msg")) === "Logged out." &&
			(await page.evaluate(() => sessionStorage.length)) === 0 && v1Requests.length === before,
			`${v1Requests.length - before} requests after`];
	}, 6000);

	// ---- the whole session ---------------------------------------------
	if (!outside.length) ok(`no request outside ${ORIGIN}`);
	else bad(`requests outside the admin origin: ${outside.join(" ")}`);
	if (!noAuth.length && v1Requests.length > 0) ok(`every one of ${v1Requests.length} /v1 requests had a bearer token`);
	else bad(`/v1 requests without a token: ${noAuth.join(" ")}`);
	// Chromium reports every 4xx answer to a fetch on the console: the
	// 401s of the wrong and the forged token (one for each poll under
	// way) and the 400s of the search that is not an AOR are expected,
	// nothing else is.
	const is401 = (e) => /status of 401/.test(e.text) && e.phase !== "load" && e.phase !== "login";
	const is400 = (e) => /status of 400/.test(e.text) && e.phase === "bad-aor";
	const unexpected = consoleErrors.filter((e) => !is401(e) && !is400(e));
	const n401 = consoleErrors.filter(is401).length;
	if (!unexpected.length && n401 >= 2 && n401 <= 4)
		ok(`no console error but the ${consoleErrors.length} expected 401s and 400s`);
	else bad(`console errors: ${JSON.stringify(consoleErrors)}`);
} catch (e) {
	bad(`stopped at ${phase}: ${e.stack || e}`);
} finally {
	await browser.close().catch(() => {});
}
process.exit(fails ? 1 : 0);

function log(m) {
	console.log(`${stamp()} ${m}`);
}
