// failoverd's dashboard: plain JavaScript over the daemon's HTTP API.
//
// Reading needs no token.  Every action asks for the API token once,
// keeps it in sessionStorage (this tab only) and sends it as
// "Authorization: Bearer"; no cookie is ever set, so no other site can act.
// The page follows GET /v1/events/stream (server-sent events); EventSource
// reconnects by itself, and each (re)connection reloads the groups with
// GET, so nothing missed while away stays missed.  Health is not a history
// event, so the groups are also read again every few seconds.
"use strict";

(function () {
	const REFRESH_MS = 3000;	// groups read again
	const HISTORY_SHOWN = 50;	// events per group on the page
	const TOKEN_KEY = "failoverd.token";

	const state = {
		groups: new Map(),	// name -> group object (GET /v1/groups)
		dns: new Map(),		// name -> GET /v1/groups/NAME/dns
		history: new Map(),	// name -> [event], oldest first
		lastSeq: 0,
		verify: null,
		switching: null,	// the switch the dialog follows
		stacks: [],		// configured stack names (GET /v1/stacks)
		editing: null,		// the group the edit form is for
		verdicts: null,		// in a cluster: GET /v1/cluster's verdicts
		alone: false,		// GET /v1/cluster said: no cluster
	};

	const $ = (id) => document.getElementById(id);

	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === "class")
				e.className = v;
			else if (k === "text")
				e.textContent = v;
			else if (k.startsWith("on"))
				e.addEventListener(k.slice(2), v);
			else
				e.setAttribute(k, v === true ? "" : v);
		}
		for (const kid of kids.flat()) {
			if (kid === null || kid === undefined || kid === false)
				continue;
			e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
		}
		return e;
	}

	function show(e, on) {
		e.classList.toggle("hidden", !on);
	}

	function notice(msg) {
		const n = $("notice");
		n.textContent = msg || "";
		show(n, !!msg);
	}

	function ago(ms) {
		if (!ms)
			return "—";
		const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
		if (s < 60)
			return s + " s ago";
		if (s < 3600)
			return Math.floor(s / 60) + " min ago";
		if (s < 86400)
			return Math.floor(s / 3600) + " h ago";
		return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
	}

	function when(ms) {
		return ms ? new Date(ms).toLocaleString() : "";
	}

	// ---- the API ----

	function token() {
		try {
			return sessionStorage.getItem(TOKEN_KEY) || "";
		} catch (e) {
			return "";
		}
	}

	function setToken(t) {
		try {
			if (t)
				sessionStorage.setItem(TOKEN_KEY, t);
			else
				sessionStorage.removeItem(TOKEN_KEY);
		} catch (e) {
			/* storage refused: the token is asked for each time */
		}
	}

	// A group's reads in flight, by group: a deletion aborts them (one
	// answered after the DELETE would be a 404, which the browser logs).
	const reading = new Map();	// name -> Set of AbortController

	// GET PATH; with NAME, a read of that group (see reading).  An
	// aborted read is status 0.
	async function getJSON(path, name) {
		const ctl = new AbortController();
		if (name !== undefined) {
			if (!reading.has(name))
				reading.set(name, new Set());
			reading.get(name).add(ctl);
		}
		let r;
		try {
			r = await fetch(path, { cache: "no-store", credentials: "omit", signal: ctl.signal });
		} catch (e) {
			if (e.name === "AbortError")
				return { status: 0, body: null };
			throw e;
		} finally {
			if (name !== undefined && reading.has(name)) {
				reading.get(name).delete(ctl);
				if (reading.get(name).size === 0)
					reading.delete(name);
			}
		}
		let body = null;
		try {
			body = await r.json();
		} catch (e) {
			body = null;
		}
		return { status: r.status, body };
	}

	// Ask for the token (once per tab); resolves to it, or "" if cancelled.
	function askToken(why) {
		return new Promise((resolve) => {
			const d = $("token");
			const w = $("token-why");
			w.textContent = why || "";
			show(w, !!why);
			$("token-input").value = "";
			const done = (t) => {
				d.removeEventListener("close", onclose);
				resolve(t);
			};
			const onclose = () => {
				const t = d.returnValue === "save" ? $("token-input").value.trim() : "";
				if (t)
					setToken(t);
				done(t);
			};
			d.returnValue = "";
			d.addEventListener("close", onclose);
			d.showModal();
			$("token-input").focus();
		});
	}

	// POST with the token; a missing or wrong one is asked for again.
	async function post(path, body, method) {
		let t = token();
		if (!t)
			t = await askToken("");
		for (let tries = 0; t && tries < 3; tries++) {
			const r = await fetch(path, {
				method: method || "POST",
				cache: "no-store",
				credentials: "omit",
				headers: { "Authorization": "Bearer " + t, "Content-Type": "application/json" },
				body: body ? JSON.stringify(body) : "",
			});
			let b = null;
			try {
				b = await r.json();
			} catch (e) {
				b = null;
			}
			if (r.status !== 401)
				return { status: r.status, body: b };
			setToken("");
			t = await askToken("Wrong API token: the daemon refused it (401). Nothing was changed.");
		}
		return { status: 0, body: { error: "no API token given: nothing was changed" } };
	}

	// ---- loading ----

	// In a cluster, each member's verdict per stack and the quorum's
	// decision (GET /v1/cluster).  Alone there are none, and a daemon
	// becomes a member only by a restart: asked once per page.
	async function loadCluster() {
		if (state.alone)
			return;
		const r = await getJSON("/v1/cluster");
		if (r.status === 200 && r.body && r.body.enabled === false)
			state.alone = true;
		state.verdicts = r.status === 200 && r.body && r.body.enabled &&
			r.body.verdicts ? r.body.verdicts : null;
	}

	async function loadGroups() {
		await loadCluster();
		const r = await getJSON("/v1/groups");
		if (r.status !== 200 || !r.body) {
			notice("Could not read the groups: " + ((r.body && r.body.error) || "HTTP " + r.status));
			return;
		}
		notice("");
		const seen = new Set();
		for (const g of r.body.groups || []) {
			state.groups.set(g.name, g);
			seen.add(g.name);
		}
		for (const name of [...state.groups.keys()])
			if (!seen.has(name))
				state.groups.delete(name);
		render();
	}

	async function loadGroup(name) {
		if (gone.has(name))
			return;
		const r = await getJSON("/v1/groups/" + encodeURIComponent(name), name);
		if (r.status === 200 && r.body) {
			const added = !state.groups.has(name);
			state.groups.set(name, r.body);
			if (added) {
				render();	// made at run time, elsewhere
				loadDNS(name);
			} else
				renderGroup(name);
		} else if (r.status === 404) {
			state.groups.delete(name);
			render();
		}
	}

	async function loadDNS(name) {
		if (gone.has(name))
			return;
		const r = await getJSON("/v1/groups/" + encodeURIComponent(name) + "/dns", name);
		if (r.status === 200 && r.body) {
			state.dns.set(name, r.body);
			renderDNS(name);
		}
	}

	async function loadHistory() {
		const r = await getJSON("/v1/events?limit=1000");
		if (r.status !== 200 || !r.body)
			return;
		state.history.clear();
		for (const ev of r.body.events || [])
			addEvent(ev, false);
		state.lastSeq = Math.max(state.lastSeq, r.body.last_seq || 0);
		for (const name of state.groups.keys())
			renderHistory(name);
	}

	async function loadVerify() {
		const r = await getJSON("/v1/history/verify");
		if (r.status !== 200 || !r.body)
			return;
		state.verify = r.body;
		renderChain();
		for (const name of state.groups.keys())
			renderHistory(name);
	}

	// The configured stacks, for the forms (stacks come only from the file).
	async function loadStacks() {
		const r = await getJSON("/v1/stacks");
		if (r.status === 200 && r.body)
			state.stacks = (r.body.stacks || []).map((s) => s.name).sort();
		return state.stacks;
	}

	async function resync() {
		await loadGroups();
		await loadHistory();
		loadVerify();
		for (const name of state.groups.keys())
			loadDNS(name);
	}

	// Coalesce reloads asked for by a burst of events.
	const pending = new Map();
	function soon(key, ms, fn) {
		if (pending.has(key))
			return;
		pending.set(key, setTimeout(() => {
			pending.delete(key);
			fn();
		}, ms));
	}
	function cancel(key) {
		const t = pending.get(key);
		if (t !== undefined) {
			clearTimeout(t);
			pending.delete(key);
		}
	}

	// A deleted group is asked for no more: a reload still pending from
	// its last events would only fetch a 404 (and the browser logs every
	// 404 as an error).  A group added again under the name comes back.
	const gone = new Set();
	// Nothing more is read of NAME: its pending reloads are cancelled and
	// its reads in flight aborted.  Before a DELETE is sent (a reload
	// firing while it is in flight would reach the daemon after it), and
	// when a group's deletion is known.
	function quiet(name) {
		gone.add(name);
		cancel("g:" + name);
		cancel("d:" + name);
		for (const ctl of reading.get(name) || [])
			ctl.abort();
		reading.delete(name);
	}
	function forget(name) {
		quiet(name);
		state.groups.delete(name);
		state.dns.delete(name);
		render();
	}

	// ---- live events ----

	function addEvent(ev, live) {
		const name = ev.group || "";
		if (!name)
			return;
		if (!state.history.has(name))
			state.history.set(name, []);
		const h = state.history.get(name);
		if (h.length && h[h.length - 1].seq >= ev.seq)
			return;
		h.push(ev);
		if (h.length > 1000)
			h.splice(0, h.length - 1000);
		if (live && ev.event === "group_deleted") {
			forget(name);
			return;
		}
		if (ev.event === "group_added")
			gone.delete(name);
		if (live) {
			followSwitch(ev);
			renderHistory(name);
			soon("g:" + name, 100, () => loadGroup(name));
			if (/^(record_published|phase_finished|switch_finished|switch_failed|confirmed|drift)$/.test(ev.event)) {
				soon("d:" + name, 300, () => loadDNS(name));
				// The servers are asked again once the answers are 2 s old.
				setTimeout(() => loadDNS(name), 2500);
			}
			soon("verify", 2500, loadVerify);
		}
	}

	function connect() {
		const live = $("live");
		const es = new EventSource("/v1/events/stream");
		es.addEventListener("hello", (m) => {
			live.textContent = "live";
			live.className = "live on";
			try {
				state.lastSeq = JSON.parse(m.data).last_seq || 0;
			} catch (e) {
				/* keep the last one */
			}
			resync();
		});
		es.addEventListener("history", (m) => {
			let ev;
			try {
				ev = JSON.parse(m.data);
			} catch (e) {
				return;
			}
			state.lastSeq = Math.max(state.lastSeq, ev.seq || 0);
			addEvent(ev, true);
		});
		es.addEventListener("error", () => {
			live.textContent = "reconnecting…";
			live.className = "live off";
			// A refusal (503: too many streams) closes it for good.
			if (es.readyState === EventSource.CLOSED) {
				live.textContent = "not live (the daemon refused the stream); retrying";
				setTimeout(connect, 5000);
			}
		});
	}

	// ---- rendering ----

	function render() {
		const main = $("groups");
		const names = [...state.groups.keys()].sort();
		const loading = $("loading");
		if (loading)
			loading.remove();
		for (const card of [...main.querySelectorAll("article.group")])
			if (!state.groups.has(card.dataset.group))
				card.remove();
		if (!names.length && !main.querySelector(".empty"))
			main.append(el("p", { class: "empty", text: "No failover groups are configured." }));
		else if (names.length)
			main.querySelectorAll(".empty").forEach((e) => e.remove());
		let prev = null;
		for (const name of names) {
			let card = cardOf(name);
			if (!card) {
				card = newCard(name);
				if (prev)
					prev.after(card);
				else
					main.prepend(card);
			}
			renderGroup(name);
			prev = card;
		}
	}

	function cardOf(name) {
		for (const c of document.querySelectorAll("article.group"))
			if (c.dataset.group === name)
				return c;
		return null;
	}

	function newCard(name) {
		const card = el("article", { class: "group", "data-group": name },
			el("h2", {}, el("span", { class: "name", text: name }), el("span", { class: "badge status" })),
			el("p", { class: "addr" }),
			el("div", { class: "flags" }),
			el("table", { class: "stacks" },
				el("thead", {}, el("tr", {},
					["Traffic", "Stack", "Role", "Health", "Since", "Last check", "Latency", "FAILOVER_STATUS"]
						.map((t) => el("th", { scope: "col", text: t })))),
				el("tbody", {})),
			el("div", { class: "dnsnow" }, el("h3", { text: "What each authoritative server answers now" }),
				el("table", { class: "dns" }, el("tbody", {}))),
			el("div", { class: "actions" }),
			el("details", { class: "history" }, el("summary", {}), el("ol", {})));
		card.dataset.group = name;
		return card;
	}

	function flagBadges(g) {
		const f = g.flags || {};
		const out = [];
		if (f.paused)
			out.push(["warn", "paused"]);
		if (f.pinned)
			out.push(["warn", "pinned to " + f.pinned]);
		if (g.status === "wait_rearm")
			out.push(["wait_rearm", "waiting for rearm: no automatic failover"]);
		if (g.status === "failed")
			out.push(["failed", "failed: needs resume or rearm"]);
		if (g.held && g.held !== "none")
			out.push(["warn", "switch held by: " + g.held]);
		if (f.switch_requested)
			out.push(["switching", "switch requested" + (f.switch_to ? " to " + f.switch_to : "")]);
		if (f.rearm_requested)
			out.push(["switching", "rearm requested"]);
		if (!out.length)
			out.push(["serving", "no flags: automatic failover armed"]);
		return out.map(([c, t]) => el("span", { class: "badge " + c, text: t }));
	}

	function renderGroup(name) {
		const g = state.groups.get(name);
		const card = cardOf(name);
		if (!g || !card)
			return;
		const st = card.querySelector(".status");
		st.textContent = g.state_text || g.status;
		st.className = "badge status " + (g.status || "");
		const pub = g.published;
		card.querySelector(".addr").textContent = "Address: " + (g.address || "(auto, not allocated yet)") +
			(pub ? " · published: " + pub.stack + ", TTL " + pub.ttl + " s" : " · nothing published");
		card.querySelector(".flags").replaceChildren(...flagBadges(g));

		const rows = (g.stacks || []).map((s) => stackRow(g, s));
		card.querySelector("table.stacks tbody").replaceChildren(...rows);
		card.querySelector(".actions").replaceChildren(...actionButtons(g));
		renderDNS(name);
		renderHistory(name);
	}

	function stackRow(g, s) {
		const active = g.active === s.name;
		const radio = el("input", {
			type: "radio",
			name: "traffic-" + g.name,
			value: s.name,
			"aria-label": (active ? "Taking traffic: " : "Switch traffic to ") + s.name,
		});
		radio.checked = active;
		radio.addEventListener("click", (e) => {
			// The radio buttons follow the record, never the click.
			e.preventDefault();
			if (!active)
				openConfirm(g.name, s.name);
		});
		const latency = s.latency_ms === null || s.latency_ms === undefined ? "—" :
			(s.latency_ms < 10 ? s.latency_ms.toFixed(1) : Math.round(s.latency_ms)) + " ms";
		return el("tr", { class: "stack" + (active ? " active" : ""), "data-stack": s.name },
			el("td", { "data-label": "Traffic" }, el("label", { class: "traffic" }, radio,
				el("span", { class: "word", text: active ? "ACTIVE — taking traffic" : "standby" }))),
			el("td", { "data-label": "Stack" }, el("strong", { text: s.name })),
			el("td", { "data-label": "Role", text: s.role || "" }),
			el("td", { "data-label": "Health" }, el("span", { class: "health-" + (s.health || "unknown"), text: s.health || "unknown" }),
				memberViews(s.name)),
			el("td", { "data-label": "Since", title: when(s.since_ms), text: ago(s.since_ms) }),
			el("td", { "data-label": "Last check" }, s.reason || "—",
				s.http_status ? el("span", { class: "small", text: " (HTTP " + s.http_status + ")" }) : null),
			el("td", { "data-label": "Latency", text: latency }),
			el("td", { "data-label": "FAILOVER_STATUS" }, el("code", { text: s.failover_status || "" })));
	}

	// "quorum up: ctl-a up, ctl-b down (status)" under a stack's health.
	function memberViews(stack) {
		const q = state.verdicts && state.verdicts.stacks && state.verdicts.stacks[stack];
		if (!q)
			return null;
		const parts = Object.keys(q.members || {}).sort().map((m) => {
			const v = q.members[m];
			// A verdict of another check is shown, but not counted.
			const other = v.check_differs === true;
			return el("span", { class: "member health-" + (other ? "unknown" : v.view),
				title: m + " sees " + stack + " " + v.view + " since " + when(v.since_ms) +
					(other ? "; its check of " + stack + " differs from the leader's: not counted" : ""),
				text: m + " " + v.view + (v.reason ? " (" + v.reason + ")" : "") +
					(other ? " [another check: not counted]" : "") });
		});
		const kids = [];
		for (const p of parts)
			kids.push(kids.length ? ", " : "", p);
		return el("div", { class: "small quorum", "data-quorum": q.decision },
			(q.decision === "no_quorum" ? "no quorum" : "quorum " + q.decision) +
			" (" + q.required + " of " + q.live + " needed): ", ...kids);
	}

	function actionButtons(g) {
		const f = g.flags || {};
		const b = (label, verb, body, title) => el("button", {
			type: "button", title: title, "data-verb": verb, text: label,
			onclick: () => act(g.name, verb, body),
		});
		const out = [];
		out.push(f.paused ? b("Resume", "resume", null, "Let automatic failover decide again") :
			b("Pause", "pause", null, "No automatic failover until resumed"));
		out.push(f.pinned ? b("Unpin", "unpin", null, "Let traffic move again") :
			b("Pin to " + (g.active || "active"), "pin", { stack: g.active }, "Keep traffic where it is"));
		const rearm = b("Rearm", "rearm", null, "Confirm the old stack was rebuilt as the standby: automatic failover again");
		rearm.disabled = g.status !== "wait_rearm" && g.status !== "failed";
		out.push(rearm);
		if (f.switch_requested)
			out.push(b("Withdraw switch request", "switch", { cancel: true }, "The daemon has not taken it yet"));
		// Groups made at run time; the file's are changed in the file.
		if (g.definition && g.definition.origin === "runtime") {
			out.push(el("button", { type: "button", "data-verb": "edit", text: "Edit",
				title: "Set or change the backup, the primary or the TTL", onclick: () => openEdit(g.name) }));
			out.push(el("button", { type: "button", "data-verb": "delete", text: "Delete",
				title: "Refused while the group points at a stack", onclick: () => deleteGroup(g.name) }));
		}
		return out;
	}

	async function act(group, verb, body) {
		const r = await post("/v1/groups/" + encodeURIComponent(group) + "/" + verb, body);
		if (r.status === 200)
			notice("");
		else
			notice(group + ": " + verb + " refused: " + ((r.body && r.body.error) || "HTTP " + r.status));
		loadGroup(group);
	}

	function renderDNS(name) {
		const card = cardOf(name);
		const d = state.dns.get(name);
		if (!card)
			return;
		const body = card.querySelector("table.dns tbody");
		if (!d || !(d.servers || []).length) {
			body.replaceChildren(el("tr", {}, el("td", { text: d && d.detail ? d.detail : "not asked yet" })));
			return;
		}
		body.replaceChildren(...d.servers.map((s) => el("tr", {},
			el("td", { "data-label": "Server" }, el("code", { text: s.server })),
			el("td", { "data-label": "Answer" }, s.answer ? el("code", { text: s.answer }) :
				(s.result ? (s.result === "NOERROR" ? "nothing at the name" : s.result) : "asking…")),
			el("td", { "data-label": "TTL", text: s.ttl !== null && s.ttl !== undefined ? "TTL " + s.ttl + " s" : "" }),
			el("td", { "data-label": "Asked", class: "small", text: s.asked_ms ? ago(s.asked_ms) : "" }))));
	}

	function eventLine(ev) {
		const d = ev.data && typeof ev.data === "object" ? ev.data : {};
		const parts = [];
		for (const [k, v] of Object.entries(d)) {
			if (k === "level" || k === "group")
				continue;
			parts.push(k + "=" + (typeof v === "string" ? v : JSON.stringify(v)));
		}
		return el("li", { "data-seq": ev.seq },
			el("span", { class: "small", text: "#" + ev.seq + " " + (ev.ts || "").replace("T", " ").replace("Z", "") + " " }),
			el("strong", { text: ev.event }), " ", parts.join(" "));
	}

	function chainText() {
		const v = state.verify;
		if (!v)
			return ["", "chain not checked yet"];
		if (v.ok)
			return ["chain-ok", "hash chain verified ✓ (" + v.count + " events, up to #" + v.checked_seq + ")"];
		return ["chain-bad", "hash chain BROKEN at #" + v.first_bad + ": " + v.detail];
	}

	function renderChain() {
		const [cls, text] = chainText();
		const c = $("chain");
		c.className = cls;
		c.textContent = text;
	}

	function renderHistory(name) {
		const card = cardOf(name);
		if (!card)
			return;
		const h = state.history.get(name) || [];
		const [cls, text] = chainText();
		const sum = card.querySelector(".history summary");
		sum.replaceChildren("History (" + h.length + (h.length === 1 ? " event" : " events") + ") — ",
			el("span", { class: cls, text: text }));
		const shown = h.slice(-HISTORY_SHOWN).reverse();
		card.querySelector(".history ol").replaceChildren(...shown.map(eventLine));
	}

	// ---- the confirmation of a switch ----

	let confirmFor = null;		// {group, to, force}

	async function openConfirm(group, to, force) {
		const d = $("confirm");
		confirmFor = { group, to, force: !!force };
		state.switching = null;
		$("confirm-title").textContent = "Switch " + group + " to " + to + "?";
		["plan-summary", "plan-dns", "plan-restore", "plan-after", "plan-text"].forEach((id) => ($(id).textContent = ""));
		$("plan-steps").replaceChildren(el("li", { text: "Reading what will happen…" }));
		show($("plan-refused"), false);
		show($("progress"), false);
		show($("confirm-error"), false);
		show($("confirm-body"), true);
		$("phases").replaceChildren();
		$("progress-result").textContent = "";
		$("progress-result").className = "result";
		const sw = $("switch-now");
		sw.disabled = true;
		show(sw, true);
		$("confirm-close").textContent = "Cancel";
		if (!d.open)
			d.showModal();
		const q = "/v1/groups/" + encodeURIComponent(group) + "/plan?to=" + encodeURIComponent(to) + (force ? "&force=1" : "");
		const r = await getJSON(q);
		if (r.status !== 200 || !r.body) {
			$("plan-steps").replaceChildren();
			const why = (r.body && r.body.error) || "HTTP " + r.status;
			const p = $("plan-refused");
			p.replaceChildren("Refused, nothing would change: " + why);
			if (r.body && r.body.reason === "target_not_up" && !force)
				p.append(" ", el("button", { type: "button", id: "plan-force", text: "Show the forced switch",
					onclick: () => openConfirm(group, to, true) }));
			show(p, true);
			return;
		}
		const plan = r.body;
		$("plan-summary").textContent = "Traffic of " + plan.group + " moves from " + (plan.from || "nothing") +
			" to " + plan.to + (plan.force ? " (forced: the target is not up)" : "") + ". In this order:";
		$("plan-steps").replaceChildren(...plan.steps.map((s) => el("li", {},
			el("strong", { text: s.phase }), " on ", el("strong", { text: s.stack }), ": ",
			s.command ? el("code", { text: s.command.join(" ") }) : "no hook, skipped")));
		$("plan-dns").textContent = "DNS: " + (plan.dns.name || "(auto address)") + " " + (plan.dns.from || "(nothing)") +
			" → " + (plan.dns.to || "(nothing)") + ", TTL " + plan.dns.ttl + " s";
		$("plan-restore").textContent = plan.restore.enabled ?
			"If replication_off, promote or maintenance_off fails: " +
			(plan.restore.command ? "maintenance_off on " + plan.restore.stack + ": " + plan.restore.command.join(" ") :
				"no restore hook, " + plan.restore.stack + " stays in maintenance") :
			"If a later step fails, " + plan.restore.stack + " stays in maintenance (no restore).";
		$("plan-after").textContent = plan.after.charAt(0).toUpperCase() + plan.after.slice(1) +
			" (or the Rearm button on this page).";
		$("plan-text").textContent = plan.text;
		if (plan.refused) {
			$("plan-refused").textContent = "Refused: " + plan.refused;
			show($("plan-refused"), true);
			return;
		}
		sw.disabled = false;
		sw.focus();
	}

	async function switchNow() {
		const c = confirmFor;
		if (!c)
			return;
		const sw = $("switch-now");
		sw.disabled = true;
		const body = { to: c.to };
		if (c.force)
			body.force = true;
		state.switching = { group: c.group, to: c.to, afterSeq: state.lastSeq, id: null, phases: new Map(), done: false };
		// The daemon may start it before this request is answered: its
		// events then arrive first, after this line.
		const reqItem = el("li", { class: "running", "data-phase": "request", text: "sending the request…" });
		$("phases").replaceChildren(reqItem);
		const r = await post("/v1/groups/" + encodeURIComponent(c.group) + "/switch", body);
		if (r.status !== 200) {
			state.switching = null;
			const e = $("confirm-error");
			e.textContent = "Switch refused, nothing changed: " + ((r.body && r.body.error) || "HTTP " + r.status);
			show(e, true);
			sw.disabled = false;
			return;
		}
		if (r.body && r.body.history_seq !== undefined)
			state.switching.afterSeq = Math.min(state.switching.afterSeq, r.body.history_seq);
		show($("confirm-body"), false);
		show(sw, false);
		show($("progress"), true);
		$("confirm-close").textContent = "Close";
		if (reqItem.className === "running")
			reqItem.textContent = "request accepted (" + r.body.message + "); waiting for the daemon to take it…";
		// Events recorded before the stream delivered them: read them back.
		const h = state.history.get(c.group) || [];
		for (const ev of h)
			if (ev.seq > state.switching.afterSeq)
				followSwitch(ev);
		loadGroup(c.group);
	}

	function phaseItem(sw, key) {
		let li = sw.phases.get(key);
		if (!li) {
			li = el("li", { "data-phase": key });
			sw.phases.set(key, li);
			$("phases").append(li);
		}
		return li;
	}

	function followSwitch(ev) {
		const sw = state.switching;
		if (!sw || sw.done || ev.group !== sw.group || ev.seq <= sw.afterSeq)
			return;
		const d = ev.data || {};
		if (ev.event === "switch_started" && !sw.id) {
			sw.id = d.id;
			const req = $("phases").querySelector('[data-phase="request"]');
			if (req) {
				req.className = "ok";
				req.textContent = "request taken";
			}
		}
		if (sw.id && d.id && d.id !== sw.id)
			return;
		const dur = d.duration_ms !== undefined ? " in " + d.duration_ms + " ms" : "";
		switch (ev.event) {
		case "switch_started": {
			const li = phaseItem(sw, "start");
			li.className = "ok";
			li.textContent = "switch started: " + d.from + " → " + d.to + " (id " + d.id + ")";
			break;
		}
		case "phase_started": {
			const li = phaseItem(sw, d.phase);
			li.className = "running";
			li.textContent = d.phase + " on " + d.stack + ": running" + (d.attempt && d.attempt !== "1" ? " (attempt " + d.attempt + ")" : "");
			break;
		}
		case "phase_finished": {
			const li = phaseItem(sw, d.phase);
			const ok = d.result === "ok";
			li.className = ok ? "ok" : "failed";
			li.textContent = d.phase + " on " + d.stack + ": " + (d.result || "done") + dur;
			break;
		}
		case "phase_skipped": {
			const li = phaseItem(sw, d.phase);
			li.className = "skipped";
			li.textContent = d.phase + " on " + d.stack + ": skipped (" + (d.reason || "") + ")";
			break;
		}
		case "record_published": {
			const li = phaseItem(sw, "record");
			li.className = "ok";
			li.textContent = "DNS record published" + (d.stack ? ": " + d.stack : "") + (d.ttl ? ", TTL " + d.ttl + " s" : "");
			break;
		}
		case "switch_finished": {
			sw.done = true;
			const r = $("progress-result");
			r.className = "result ok";
			r.textContent = "Done: " + d.from + " → " + d.to + dur + ". " + sw.group + " now waits for rearm.";
			break;
		}
		case "switch_failed": {
			sw.done = true;
			const r = $("progress-result");
			r.className = "result failed";
			r.textContent = "Failed in " + d.phase + ": traffic stays on " + d.traffic + (d.restore ? " (restore: " + d.restore + ")" : "") + ".";
			break;
		}
		case "cmd_refused":
		case "request_expired": {
			sw.done = true;
			const r = $("progress-result");
			r.className = "result failed";
			r.textContent = ev.event.replace("_", " ") + ": " + (d.reason || "") + "; nothing changed.";
			break;
		}
		default:
			break;
		}
	}

	// ---- groups made at run time: add, edit, delete ----

	function stackOptions(none, selected) {
		return [el("option", { value: "", text: none }),
			...state.stacks.map((s) => {
				const o = el("option", { value: s, text: s });
				o.selected = s === selected;
				return o;
			})];
	}

	async function openAdd() {
		await loadStacks();
		$("add-primary").replaceChildren(...stackOptions("none", null));
		$("add-backup").replaceChildren(...stackOptions("no backup yet", null));
		show($("add-error"), false);
		$("add").showModal();
	}

	async function openEdit(name) {
		const g = state.groups.get(name);
		if (!g || !g.definition)
			return;
		await loadStacks();
		state.editing = name;
		$("edit-title").textContent = "Edit failover group " + name;
		$("edit-address").textContent = "Address: " + (g.address || "auto, not allocated yet") + " (it never changes)";
		$("edit-primary").replaceChildren(...stackOptions("none", g.definition.primary));
		$("edit-backup").replaceChildren(...stackOptions("no backup yet", g.definition.backup));
		$("edit-ttl").value = g.definition.ttl + "s";
		show($("edit-error"), false);
		$("edit").showModal();
	}

	async function saveEdit(e) {
		e.preventDefault();
		const name = state.editing;
		const body = { primary: $("edit-primary").value || null, backup: $("edit-backup").value || null };
		if ($("edit-ttl").value.trim())
			body.ttl = $("edit-ttl").value.trim();
		const r = await post("/v1/groups/" + encodeURIComponent(name), body, "PATCH");
		if (r.status === 200) {
			$("edit").close();
			notice("");
			loadGroups();
			return;
		}
		const err = $("edit-error");
		err.textContent = "Not changed: " + ((r.body && r.body.error) || "HTTP " + r.status);
		show(err, true);
	}

	async function deleteGroup(name) {
		if (!window.confirm("Delete the failover group " + name + "? Its address is never handed out again."))
			return;
		quiet(name);
		const r = await post("/v1/groups/" + encodeURIComponent(name), null, "DELETE");
		if (r.status === 204) {
			notice("");
			forget(name);
			return;
		}
		gone.delete(name);	// still there: read it again
		loadGroup(name);
		notice(name + ": delete refused: " + ((r.body && r.body.error) || "HTTP " + r.status));
	}

	async function saveAdd(e) {
		e.preventDefault();
		const body = { name: $("add-name").value.trim(), address: $("add-address").value.trim() || "auto" };
		if ($("add-primary").value)
			body.primary = $("add-primary").value;
		if ($("add-backup").value)
			body.backup = $("add-backup").value;
		if ($("add-ttl").value.trim())
			body.ttl = $("add-ttl").value.trim();
		const r = await post("/v1/groups", body);
		if (r.status === 201) {
			$("add").close();
			gone.delete(body.name);
			loadGroups();
			return;
		}
		const err = $("add-error");
		err.textContent = "Not added: " + ((r.body && r.body.error) || "HTTP " + r.status);
		show(err, true);
	}

	// ---- wiring ----

	function init() {
		$("switch-now").addEventListener("click", switchNow);
		$("confirm-close").addEventListener("click", () => $("confirm").close());
		$("confirm").addEventListener("close", () => {
			confirmFor = null;
			state.switching = null;
		});
		$("token-open").addEventListener("click", () => askToken(""));
		$("token-form").addEventListener("submit", (e) => {
			e.preventDefault();
			$("token").close("save");
		});
		$("token-cancel").addEventListener("click", () => $("token").close(""));
		$("token-forget").addEventListener("click", () => {
			setToken("");
			$("token").close("");
		});
		$("add-open").addEventListener("click", openAdd);
		$("add-form").addEventListener("submit", saveAdd);
		$("add-cancel").addEventListener("click", () => $("add").close());
		$("edit-form").addEventListener("submit", saveEdit);
		$("edit-cancel").addEventListener("click", () => $("edit").close());
		resync();
		connect();
		loadStacks();
		setInterval(loadGroups, REFRESH_MS);
		setInterval(() => {
			for (const name of state.groups.keys())
				loadDNS(name);
		}, 4 * REFRESH_MS);
	}

	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", init);
	else
		init();
})();
