/*
 * Junction's web console: one page, a view per hash route (#/node,
 * #/sip-servers, #/sessions, #/bindings, #/errors), every value read
 * from this node's /v1 API with the bearer token the operator typed in.
 *
 * - The token lives in sessionStorage (this tab only, gone when it
 *   closes) and goes out as "Authorization: Bearer TOKEN" with every
 *   request, to this origin only. A 401 anywhere forgets it and returns
 *   to the login view with the API's message.
 * - Values go into the page with textContent (el() below turns every
 *   string into a text node): nothing the API returns is ever parsed as
 *   markup. There is no inline script or style, so the strict
 *   Content-Security-Policy the daemon sends (src/admin/admin_ui.c) holds.
 * - The view shown polls its resources (every 5 s, /v1/stats every 2 s),
 *   one request at a time per resource; leaving a view stops its timers,
 *   and an answer that comes back for a view no longer shown is dropped.
 *   An API error replaces nothing silently: its message is shown above
 *   the view until the next answer is good.
 * - Live rates are computed here from two successive /v1/stats: the
 *   difference of each counter over the time between the two answers.
 */
'use strict';

(function () {
	const TOKEN_KEY = 'junction.console.token';
	const REFRESH_MS = 5000;
	const STATS_MS = 2000;
	const SPARK_POINTS = 30;
	const PAGE = 50;

	const $ = (sel, root) => (root || document).querySelector(sel);
	const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

	/* ---- DOM, text only ------------------------------------------------ */

	/* el('td', {class: 'x', 'data-col': 'id'}, 'text', node, ...): strings
	 * become text nodes; props go through setAttribute or className. */
	function el(tag, props, ...kids) {
		const e = document.createElement(tag);
		if (props) {
			for (const [k, v] of Object.entries(props)) {
				if (v === undefined || v === null || v === false)
					continue;
				if (k === 'class')
					e.className = v;
				else
					e.setAttribute(k, v === true ? '' : String(v));
			}
		}
		for (const kid of kids.flat()) {
			if (kid === undefined || kid === null)
				continue;
			e.append(kid instanceof Node ? kid : String(kid));
		}
		return e;
	}

	function setText(root, key, value) {
		for (const e of $$(`[data-k="${key}"]`, root))
			e.textContent = fmt(value);
	}

	function fmt(v) {
		if (v === undefined || v === null || v === '')
			return '—';
		if (typeof v === 'boolean')
			return v ? 'yes' : 'no';
		return String(v);
	}

	function fmtDuration(s) {
		s = Math.max(0, Math.floor(Number(s) || 0));
		const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
		const m = Math.floor((s % 3600) / 60), sec = s % 60;
		if (d)
			return `${d}d ${h}h ${m}m`;
		if (h)
			return `${h}h ${m}m ${sec}s`;
		if (m)
			return `${m}m ${sec}s`;
		return `${sec}s`;
	}

	/* A time of the API (ISO 8601 text, or seconds since the epoch) as a
	 * <time> element: "2026-11-21 10:00:00 UTC", the exact value in its
	 * datetime and title. */
	function fmtTime(t) {
		if (t === undefined || t === null || t === '')
			return fmt(t);
		const iso = typeof t === 'number' ? new Date(t > 1e12 ? t : t * 1000).toISOString()
			: String(t);
		const d = new Date(iso);
		const text = isNaN(d.getTime()) ? iso
			: d.toISOString().replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
		return el('time', {datetime: iso, title: iso}, text);
	}

	function fmtRate(r) {
		return r === null ? '…' : r.toFixed(1);
	}

	function badge(text, kind) {
		return el('span', {class: `badge ${kind || text}`}, fmt(text));
	}

	/* A table that turns into stacked cards on a narrow screen (style.css):
	 * every cell carries its column's label. cols: [{key, label, value(row)
	 * -> string | Node}]; rowKey(row) names the row (data-key). */
	function table(cols, rows, rowKey, emptyText) {
		const head = el('tr', null, cols.map((c) => el('th', {scope: 'col'}, c.label)));
		const body = el('tbody', null,
			rows.map((r) => el('tr', {'data-key': rowKey ? rowKey(r) : null},
				cols.map((c) => el('td', {'data-label': c.label, 'data-col': c.key,
					class: c.cls}, el('div', {class: 'cell'}, c.value(r)))))));
		const wrap = el('div', {class: 'tbl-wrap'},
			el('table', {class: 'tbl'}, el('thead', null, head), body));
		if (!rows.length)
			wrap.append(el('p', {class: 'empty'}, emptyText || 'Nothing to show.'));
		return wrap;
	}

	/* Draws values (oldest first) into the <polyline> of an <svg
	 * viewBox="0 0 100 24"> of index.html, spread over its width and scaled
	 * to its height (the largest value at the top, 1 at least). */
	function spark(svg, values) {
		const w = 100, h = 24;
		const max = Math.max(1, ...values);
		const step = values.length > 1 ? w / (values.length - 1) : 0;
		const pts = values.length < 2 ? [] : values.map((v, i) =>
			`${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`);
		$('polyline', svg).setAttribute('points', pts.join(' '));
	}

	/* ---- the API ------------------------------------------------------- */

	class ApiError extends Error {
		constructor(status, code, message) {
			super(message);
			this.status = status;
			this.code = code;
		}
	}

	function token() {
		return sessionStorage.getItem(TOKEN_KEY);
	}

	/* GET path with the token; the parsed JSON body, or an ApiError with
	 * the API's own message. A 401 also logs out. */
	async function api(path, tok) {
		let res;
		try {
			res = await fetch(path, {
				headers: {'Authorization': `Bearer ${tok || token() || ''}`,
					  'Accept': 'application/json'},
				cache: 'no-store',
				credentials: 'omit',
				redirect: 'error',
			});
		} catch (e) {
			throw new ApiError(0, 'network', `the node did not answer (${e.message})`);
		}
		const text = await res.text();
		let body = null;
		try {
			body = text ? JSON.parse(text) : null;
		} catch (e) {
			body = null;
		}
		if (!res.ok) {
			const err = body && body.error;
			const msg = err && typeof err.message === 'string' ? err.message
				: `HTTP ${res.status} ${res.statusText}`;
			const e = new ApiError(res.status, (err && err.code) || '', msg);
			if (res.status === 401 && !tok)
				loggedOut(`The token was refused: ${msg}. Log in again.`);
			throw e;
		}
		if (body === null || typeof body !== 'object')
			throw new ApiError(res.status, 'invalid', `${path}: the answer is not a JSON object`);
		return body;
	}

	function query(path, params) {
		const q = new URLSearchParams();
		for (const [k, v] of Object.entries(params))
			if (v !== undefined && v !== null && v !== '')
				q.set(k, v);
		const s = q.toString();
		return s ? `${path}?${s}` : path;
	}

	/* ---- views, timers, errors ----------------------------------------- */

	let generation = 0; /* bumped whenever the view changes */
	let pollers = [];
	let errors = {};

	function stopPolling() {
		generation++;
		for (const p of pollers)
			clearTimeout(p.timer);
		pollers = [];
		errors = {};
	}

	/* Runs fn now and every ms after it ends, while the view lasts. fn gets
	 * a function telling whether its answer is still wanted. */
	function poll(ms, fn) {
		const gen = generation;
		const p = {timer: 0};
		const live = () => gen === generation;
		const tick = async () => {
			if (!live())
				return;
			try {
				await fn(live);
			} catch (e) {
				/* errors are shown by fn; a 401 has logged out */
			}
			if (live())
				p.timer = setTimeout(tick, ms);
		};
		pollers.push(p);
		tick();
	}

	function currentSection() {
		return $('.view:not([hidden])');
	}

	/* The error of one source (a resource) of the shown view; null clears. */
	function showError(source, e) {
		const section = currentSection();
		if (!section)
			return;
		if (e)
			errors[source] = e.status ? `${source}: ${e.message} (HTTP ${e.status})`
				: `${source}: ${e.message}`;
		else
			delete errors[source];
		const box = $('.error', section);
		if (!box)
			return;
		const msgs = Object.values(errors);
		box.replaceChildren(...msgs.map((m) => el('span', {class: 'error-line'}, m)));
		box.hidden = msgs.length === 0;
	}

	function refreshed() {
		$('#refreshed').textContent = `Updated ${new Date().toLocaleTimeString()}`;
	}

	/* fetch, then render, with the error (or its absence) shown: the
	 * common shape of every view's poll. */
	async function load(live, source, path, render, onError) {
		let body;
		try {
			body = await api(path);
		} catch (e) {
			if (!live() || e.status === 401)
				throw e;
			if (onError && onError(e))
				showError(source, null);
			else
				showError(source, e);
			throw e;
		}
		if (!live())
			return;
		render(body);
		showError(source, null);
		refreshed();
	}

	/* ---- Node ---------------------------------------------------------- */

	const rates = {prev: null, hist: {requests: [], responses: []}};

	function renderStatus(s) {
		const v = $('#view-node');
		for (const k of ['node', 'version', 'mode', 'bindings', 'transactions', 'dialogs',
			'tcp_connections'])
			setText(v, k, s[k]);
		$('[data-k="started_at"]', v).replaceChildren(fmtTime(s.started_at));
		setText(v, 'uptime', fmtDuration(s.uptime_seconds));
		$('#top-node').textContent = fmt(s.node);
		const db = s.database || {};
		const st = $('[data-k="db_state"]', v);
		st.replaceChildren(badge(db.state));
		setText(v, 'db_latency', typeof db.latency_ms === 'number'
			? `${db.latency_ms.toFixed(2)} ms` : null);
		setText(v, 'db_primary', db.primary);
		setText(v, 'db_failovers', db.failovers);
		setText(v, 'db_workers', db.workers_connected);
		setText(v, 'db_unavailable', typeof db.unavailable_seconds === 'number'
			? `${db.unavailable_seconds.toFixed(1)} s` : null);
		$('#listeners').replaceChildren(...(s.listeners || []).map((l) =>
			el('li', {'data-listen': l.listen}, l.listen)));
		const w = s.workers || [];
		$('#workers').textContent = `${w.length} worker${w.length === 1 ? '' : 's'}; ` +
			`queue depths: ${w.map((x) => x.queue_depth).join(' ') || '—'}`;
		const tls = $('#tls');
		if (s.tls) {
			const soon = s.tls.days_left < 14;
			tls.replaceChildren(
				el('dt', null, 'Subject'), el('dd', {'data-k': 'tls_subject'}, s.tls.subject),
				el('dt', null, 'Expires'), el('dd', {'data-k': 'tls_expires'},
					fmtTime(s.tls.expires_at)),
				el('dt', null, 'Days left'),
				el('dd', {'data-k': 'tls_days', class: soon ? 'warn-text' : null},
					s.tls.days_left));
		} else {
			tls.replaceChildren(el('dt', null, 'Certificate'),
				el('dd', {'data-k': 'tls_subject'}, 'none (no tls: or wss: listener)'));
		}
		$('#transports').replaceChildren(table([
			{key: 'transport', label: 'Transport', value: (t) => t.transport},
			{key: 'connections', label: 'Open', value: (t) => t.connections},
			{key: 'bytes_in', label: 'Bytes in', value: (t) => t.bytes_in},
			{key: 'bytes_out', label: 'Bytes out', value: (t) => t.bytes_out},
			{key: 'handshakes', label: 'Handshakes', value: (t) => t.handshakes},
			{key: 'handshake_failures', label: 'Failed', value: (t) => t.handshake_failures},
		], s.transports || [], (t) => t.transport, 'No stream listener (tcp, tls, ws, wss).'));
	}

	function renderPeers(body) {
		const nodes = Array.isArray(body.nodes) ? body.nodes : [];
		$('#peers').replaceChildren(table([
			{key: 'name', label: 'Node', value: (n) => n.self
				? el('span', null, fmt(n.name), ' ', el('span', {class: 'tag'}, 'this node'))
				: fmt(n.name)},
			{key: 'alive', label: 'Alive', value: (n) => badge(n.alive ? 'alive' : 'down')},
			{key: 'version', label: 'Version', value: (n) => fmt(n.version)},
			{key: 'geo_location', label: 'Data centre', value: (n) => fmt(n.geo_location)},
			{key: 'sip_listen', label: 'SIP', value: (n) => fmt(n.sip_listen), cls: 'long'},
			{key: 'admin_listen', label: 'Admin', value: (n) => fmt(n.admin_listen)},
			{key: 'started_at', label: 'Started', value: (n) => fmtTime(n.started_at)},
			{key: 'last_seen', label: 'Last seen', value: (n) => fmtTime(n.last_seen)},
		], nodes, (n) => n.name, 'No node has reported yet.'));
	}

	function sum(o) {
		let n = 0;
		for (const v of Object.values(o || {}))
			if (typeof v === 'number')
				n += v;
		return n;
	}

	function renderStats(s) {
		const now = performance.now();
		const prev = rates.prev;
		rates.prev = {t: now, s};
		const v = $('#view-node');
		const methods = s.requests_received || {};
		const classes = s.responses_sent || {};
		let dt = prev ? (now - prev.t) / 1000 : 0;
		const rate = (a, b) => (dt > 0 && typeof a === 'number' && typeof b === 'number' && b >= a
			? (b - a) / dt : null);
		const r = {
			requests: prev ? rate(sum(prev.s.requests_received), sum(methods)) : null,
			responses: prev ? rate(sum(prev.s.responses_sent), sum(classes)) : null,
			responses_rx: prev ? rate(sum(prev.s.responses_received),
				sum(s.responses_received)) : null,
			rx_messages: prev ? rate(prev.s.counters && prev.s.counters.rx_messages,
				s.counters && s.counters.rx_messages) : null,
		};
		for (const k of ['requests', 'responses']) {
			if (r[k] === null)
				continue;
			rates.hist[k].push(r[k]);
			if (rates.hist[k].length > SPARK_POINTS)
				rates.hist[k].shift();
		}
		setText(v, 'rate_requests', fmtRate(r.requests));
		setText(v, 'rate_responses', fmtRate(r.responses));
		setText(v, 'rate_responses_rx', fmtRate(r.responses_rx));
		setText(v, 'rate_rx_messages', fmtRate(r.rx_messages));
		setText(v, 'rate_note', prev ? `over ${dt.toFixed(1)} s` : '(measuring)');
		spark($('[data-k="spark_requests"]', v), rates.hist.requests);
		spark($('[data-k="spark_responses"]', v), rates.hist.responses);
		/* one chip per counter: the methods seen at least once since the
		 * node started (the others stay at 0), every response class */
		const chips = (o, po, attr, all) => Object.keys(o).filter((k) => all || o[k] > 0)
			.map((k) => el('span', {class: 'chip', [attr]: k}, el('span', {class: 'chip-k'}, k),
				' ', el('span', {class: 'chip-v'},
					fmtRate(prev && po ? rate(po[k], o[k]) : null))));
		const m = chips(methods, prev && prev.s.requests_received, 'data-method', false);
		$('#rate-methods').replaceChildren(...(m.length ? m
			: [el('span', {class: 'muted'}, 'no request yet')]));
		$('#rate-classes').replaceChildren(...chips(classes, prev && prev.s.responses_sent,
			'data-class', true));
	}

	function startNode() {
		rates.prev = null;
		rates.hist = {requests: [], responses: []};
		for (const k of ['spark_requests', 'spark_responses'])
			spark($(`[data-k="${k}"]`), []);
		setText($('#view-node'), 'rate_note', '(measuring)');
		poll(REFRESH_MS, (live) => load(live, '/v1/status', '/v1/status', renderStatus));
		poll(REFRESH_MS, (live) => load(live, '/v1/nodes', '/v1/nodes', renderPeers, (e) => {
			if (e.status !== 404)
				return false;
			/* a node older than /v1/nodes */
			$('#peers').replaceChildren(el('p', {class: 'note'},
				'This node does not serve /v1/nodes: no cluster view.'));
			return true;
		}));
		poll(STATS_MS, (live) => load(live, '/v1/stats', '/v1/stats', renderStats));
	}

	/* ---- Session Controllers ------------------------------------------- */

	function renderServers(body) {
		const servers = Array.isArray(body.sip_servers) ? body.sip_servers : [];
		const names = new Set();
		for (const s of servers)
			for (const n of s.nodes || [])
				names.add(n.node);
		const nodes = Array.from(names).sort();
		const cols = [
			{key: 'name', label: 'Server', value: (s) => el('span', null,
				el('strong', {class: 'sc-name'}, fmt(s.name)),
				el('span', {class: 'sub long'}, fmt(s.uri)))},
			{key: 'geo_location', label: 'Data centre', value: (s) => fmt(s.geo_location)},
			{key: 'ha_pair', label: 'HA pair', value: (s) => s.ha_pair
				? `${s.ha_pair} (${s.role})` : 'none'},
			{key: 'weight', label: 'Weight', value: (s) => fmt(s.weight)},
			{key: 'enabled', label: 'Enabled', value: (s) => badge(s.enabled ? 'enabled'
				: 'disabled')},
		];
		for (const name of nodes) {
			cols.push({key: `node:${name}`, label: `Seen by ${name}`, value: (s) => {
				const n = (s.nodes || []).find((x) => x.node === name);
				if (!n)
					return el('span', {class: 'muted', 'data-state': ''}, 'not reported');
				return el('span', {class: 'node-view', 'data-state': n.state,
					title: `since ${fmt(n.since)}; reported ${fmt(n.updated_at)}`},
					badge(n.state),
					typeof n.rtt_ms === 'number' ? el('span', {class: 'sub'},
						`${n.rtt_ms.toFixed(1)} ms`) : null,
					n.reason ? el('span', {class: 'sub reason'}, n.reason) : null);
			}});
		}
		$('#sc-table').replaceChildren(table(cols, servers, (s) => s.name,
			'No Session Controller is configured.'));
	}

	function startServers() {
		poll(REFRESH_MS, (live) => load(live, '/v1/sip-servers', '/v1/sip-servers',
			renderServers));
	}

	/* ---- lists with a form and pages (sessions, bindings) -------------- */

	/* The form's fields from the route's parameters, and on submit the
	 * route from the form's fields (a new hash: the view restarts). */
	function bindForm(form, params, view) {
		for (const input of $$('input, select', form)) {
			if (input.type === 'checkbox')
				input.checked = params.get(input.name) === 'yes';
			else
				input.value = params.get(input.name) || '';
		}
		form.onsubmit = (ev) => {
			ev.preventDefault();
			const q = new URLSearchParams();
			for (const input of $$('input, select', form)) {
				if (input.type === 'checkbox') {
					if (input.checked)
						q.set(input.name, 'yes');
				} else if (input.value.trim()) {
					q.set(input.name, input.value.trim());
				}
			}
			const hash = `#/${view}${q.toString() ? `?${q}` : ''}`;
			if (location.hash === hash)
				route();
			else
				location.hash = hash;
		};
	}

	/* Pages by cursor: the route's cursor is the page shown; "Next page"
	 * goes on with the list's next, "First page" drops the cursor. */
	function bindPager(view, params, nextButton, firstButton) {
		nextButton.disabled = true;
		firstButton.disabled = !params.get('cursor');
		firstButton.onclick = () => {
			params.delete('cursor');
			location.hash = `#/${view}${params.toString() ? `?${params}` : ''}`;
		};
		return (next) => {
			nextButton.disabled = !next;
			nextButton.onclick = () => {
				params.set('cursor', next);
				location.hash = `#/${view}?${params}`;
			};
		};
	}

	function startSessions(params) {
		bindForm($('#sessions-form'), params, 'sessions');
		const pager = bindPager('sessions', params, $('#sessions-next'), $('#sessions-first'));
		const path = query('/v1/sessions', {
			limit: PAGE, cursor: params.get('cursor'), sip_server: params.get('sip_server'),
			aor: params.get('aor'), ended: params.get('ended') === 'yes' ? 'yes' : null,
		});
		poll(REFRESH_MS, (live) => load(live, '/v1/sessions', path, (body) => {
			const items = Array.isArray(body.items) ? body.items : [];
			$('#sessions-table').replaceChildren(table([
				{key: 'id', label: 'Id', value: (s) => fmt(s.id)},
				{key: 'sip_server', label: 'Session Controller', value: (s) => fmt(s.sip_server)},
				{key: 'ha_pair', label: 'HA pair', value: (s) => fmt(s.ha_pair)},
				{key: 'node', label: 'Node', value: (s) => fmt(s.node)},
				{key: 'dialogs', label: 'Open dialogs', value: (s) => fmt(s.dialogs)},
				{key: 'created', label: 'Created', value: (s) => fmtTime(s.created)},
				{key: 'last_activity', label: 'Last activity', value: (s) =>
					fmtTime(s.last_activity)},
				{key: 'ended', label: 'Ended', value: (s) => fmtTime(s.ended)},
				{key: 'moved_from', label: 'Moved from', value: (s) => fmt(s.moved_from)},
			], items, (s) => s.id, params.get('ended') === 'yes' ? 'No session.'
				: 'No open session.'));
			pager(body.next);
		}));
	}

	function startBindings(params) {
		bindForm($('#bindings-form'), params, 'bindings');
		const pager = bindPager('bindings', params, $('#bindings-next'), $('#bindings-first'));
		const aor = params.get('aor');
		const path = query('/v1/bindings', {limit: PAGE, cursor: params.get('cursor'), aor});
		poll(REFRESH_MS, (live) => load(live, '/v1/bindings', path, (body) => {
			const items = Array.isArray(body.items) ? body.items : [];
			$('#bindings-table').replaceChildren(table([
				{key: 'aor', label: 'AOR', value: (b) => fmt(b.aor), cls: 'long'},
				{key: 'contact', label: 'Contact', value: (b) => fmt(b.contact), cls: 'long'},
				{key: 'expires', label: 'Expires in', value: (b) => `${fmt(b.expires)} s`},
				{key: 'q', label: 'q', value: (b) => fmt(b.q)},
				{key: 'received', label: 'Received from', value: (b) => fmt(b.received),
					cls: 'long'},
				{key: 'node', label: 'Node', value: (b) => fmt(b.node)},
				{key: 'user_agent', label: 'User-Agent', value: (b) => fmt(b.user_agent),
					cls: 'long'},
				{key: 'updated_at', label: 'Registered', value: (b) => fmtTime(b.updated_at)},
			], items, (b) => b.id, aor ? `No binding for ${aor}.` : 'No binding.'));
			pager(body.next);
		}, (e) => {
			/* a search that is not an AOR: say so in place of the rows */
			if (e.status === 400)
				$('#bindings-table').replaceChildren();
			return false;
		}));
	}

	/* ---- Errors -------------------------------------------------------- */

	function timeKey(t) {
		if (typeof t === 'number')
			return t;
		const n = Date.parse(t);
		return isNaN(n) ? 0 : n;
	}

	function startErrors(params) {
		const form = $('#errors-form');
		const level = params.get('level') === 'error' ? 'error' : 'warn';
		form.elements.level.value = level;
		form.onsubmit = (ev) => ev.preventDefault();
		form.elements.level.onchange = () => {
			location.hash = `#/errors?level=${form.elements.level.value}`;
		};
		poll(REFRESH_MS, (live) => load(live, '/v1/log', query('/v1/log', {limit: 200, level}),
			(body) => {
				const entries = (Array.isArray(body.entries) ? body.entries : [])
					.map((e, i) => ({e, i}))
					.sort((a, b) => timeKey(b.e.time) - timeKey(a.e.time) || a.i - b.i)
					.map((x) => x.e);
				$('#errors-table').replaceChildren(table([
					{key: 'time', label: 'Time', value: (e) => fmtTime(e.time)},
					{key: 'level', label: 'Level', value: (e) => badge(e.level)},
					{key: 'message', label: 'Message', value: (e) => fmt(e.message),
						cls: 'long msg-cell'},
				], entries, null, level === 'error' ? 'No error logged recently.'
					: 'No warning or error logged recently.'));
			}, (e) => {
				if (e.status !== 404)
					return false;
				$('#errors-table').replaceChildren(el('p', {class: 'note'},
					'This node does not serve /v1/log: no recent errors to show.'));
				return true;
			}));
	}

	/* ---- routing, login ------------------------------------------------ */

	const VIEWS = {
		'node': startNode,
		'sip-servers': startServers,
		'sessions': startSessions,
		'bindings': startBindings,
		'errors': startErrors,
	};

	function parseHash() {
		const h = location.hash.replace(/^#\/?/, '');
		const i = h.indexOf('?');
		return {
			view: i < 0 ? h : h.slice(0, i),
			params: new URLSearchParams(i < 0 ? '' : h.slice(i + 1)),
		};
	}

	function showSection(id) {
		for (const s of $$('.view'))
			s.hidden = s.id !== id;
	}

	function showLogin(message) {
		stopPolling();
		showSection('view-login');
		$('#nav').hidden = true;
		$('#logout').hidden = true;
		$('#top-node').textContent = '';
		$('#refreshed').textContent = '';
		$('#login-msg').textContent = message || '';
		$('#token').value = '';
		$('#token').focus();
	}

	function loggedOut(message) {
		sessionStorage.removeItem(TOKEN_KEY);
		showLogin(message);
	}

	function route() {
		stopPolling();
		if (!token()) {
			showLogin($('#login-msg').textContent);
			return;
		}
		const {view, params} = parseHash();
		if (!VIEWS[view]) {
			location.replace('#/node'); /* hashchange: route() again */
			return;
		}
		$('#nav').hidden = false;
		$('#logout').hidden = false;
		for (const a of $$('#nav a')) {
			if (a.dataset.view === view)
				a.setAttribute('aria-current', 'page');
			else
				a.removeAttribute('aria-current');
		}
		showSection(`view-${view}`);
		VIEWS[view](params);
	}

	async function login(ev) {
		ev.preventDefault();
		const tok = $('#token').value.trim();
		const msg = $('#login-msg');
		if (!tok) {
			msg.textContent = 'Enter the API token.';
			return;
		}
		msg.textContent = 'Checking the token…';
		try {
			const s = await api('/v1/status', tok);
			sessionStorage.setItem(TOKEN_KEY, tok);
			msg.textContent = '';
			$('#top-node').textContent = fmt(s.node);
		} catch (e) {
			msg.textContent = e.status === 401 ? `The token was refused: ${e.message}.`
				: `Cannot log in: ${e.message}`;
			return;
		}
		if (!VIEWS[parseHash().view])
			location.hash = '#/node';
		else
			route();
	}

	document.addEventListener('DOMContentLoaded', () => {
		$('#login-form').addEventListener('submit', login);
		$('#logout').addEventListener('click', () => {
			loggedOut('Logged out.');
		});
		window.addEventListener('hashchange', route);
		route();
	});
})();
