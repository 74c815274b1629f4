/* app.js: the leaders' dashboard (index.html): reads /v1/stats with
 * the token kept in sessionStorage and draws it with textContent only. */
"use strict";
/* Show every script error in the page, so tests and users see it. */
function showError(msg) {
	var e = document.getElementById("errors");
	e.textContent += (e.textContent ? " | " : "") + msg;
	e.setAttribute("data-errors", "1");
}
window.addEventListener("error", function (ev) { showError("Lỗi: " + ev.message); });
window.addEventListener("unhandledrejection", function (ev) { showError("Lỗi: " + ev.reason); });

var TIERS = ["", "Cao nhất", "Trung bình cao", "Trung bình thấp", "Thấp nhất"];
var SHORT = ["", "Tham gia", "Minh bạch", "Giải trình", "Tham nhũng", "Thủ tục HC",
	"Dịch vụ công", "Môi trường", "Điện tử"];
var SVGNS = "http://www.w3.org/2000/svg";

/* Format a number the Vietnamese way, or a dash. */
function fmt(v, digits) {
	if (v === null || v === undefined) return "–";
	return Number(v).toLocaleString("vi-VN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/* Make an element with text. */
function el(tag, text, cls) {
	var e = document.createElement(tag);
	if (text !== undefined && text !== null) e.textContent = text;
	if (cls) e.className = cls;
	return e;
}

/* Make an SVG element with attributes. */
function svg(tag, attrs, text) {
	var e = document.createElementNS(SVGNS, tag);
	Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
	if (text !== undefined) e.textContent = text;
	return e;
}

/* The period string the API takes, from the picker. */
function period() {
	var kind = document.getElementById("kind").value;
	var y = document.getElementById("year").value;
	var p = document.getElementById("part").value;
	if (kind === "month") return y + "-" + p;
	if (kind === "Q" || kind === "H") return y + "-" + kind + p;
	if (kind === "M9") return y + "-M9";
	return y;
}

/* Fill the month / quarter / half choices for the period kind. */
function fillParts(selected) {
	var kind = document.getElementById("kind").value, part = document.getElementById("part");
	var n = kind === "month" ? 12 : kind === "Q" ? 4 : kind === "H" ? 2 : 0;
	part.innerHTML = "";
	part.disabled = n === 0;
	for (var i = 1; i <= n; i++) {
		var v = kind === "month" ? (i < 10 ? "0" + i : "" + i) : "" + i;
		var o = el("option", kind === "month" ? "Tháng " + i : kind === "Q" ? "Quý " + i : (i === 1 ? "6 tháng đầu" : "6 tháng cuối"));
		o.value = v;
		if (v === selected) o.selected = true;
		part.appendChild(o);
	}
}

/* Read /v1/stats with the token. */
function api(params) {
	var q = Object.keys(params).filter(function (k) { return params[k]; })
		.map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
	return fetch("/v1/stats?" + q, { headers: { Authorization: "Bearer " + sessionStorage.getItem("pakn_token") } })
		.then(function (r) {
			return r.json().then(function (j) {
				if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
				return j;
			});
		});
}

/* A summary card; good or bad when a target applies. */
function card(label, value, met) {
	var c = el("div", null, "card" + (met === true ? " good" : met === false ? " bad" : ""));
	c.appendChild(el("b", value));
	c.appendChild(el("span", label));
	return c;
}

/* Draw the totals. */
function drawCards(doc) {
	var t = doc.total, cards = document.getElementById("cards");
	document.getElementById("title").textContent = "Tổng hợp: " + doc.unit.name + ", kỳ " +
		doc.period.label + " (" + doc.period.from + " đến " + doc.period.to + ")";
	cards.innerHTML = "";
	cards.appendChild(card("Tiếp nhận", fmt(t.received, 0)));
	cards.appendChild(card("Đã trả lời", fmt(t.answered, 0)));
	cards.appendChild(card("Đúng hạn (%)", fmt(t.on_time_rate, 1), t.on_time_target_met));
	cards.appendChild(card("Hài lòng (%)", fmt(t.satisfaction_rate, 1), t.satisfaction_target_met));
	cards.appendChild(card("Điểm đáp ứng PAKN (1-10)", fmt(t.score, 2)));
	cards.appendChild(card("Trung vị (ngày LV)", fmt(t.median_days, 0)));
	cards.appendChild(card("Đang quá hạn", fmt(t.open_overdue, 0), t.open_overdue === 0));
}

/* One bar of the chart with its value above it. */
function bar(g, x, w, value, color, h, top) {
	if (value === null || value === undefined) return;
	var y = top + h * (1 - value / 100);
	g.appendChild(svg("rect", { x: x, y: y, width: w, height: top + h - y, fill: color }));
	g.appendChild(svg("text", { x: x + w / 2, y: y - 3, "text-anchor": "middle", "font-size": 10 }, fmt(value, 1)));
}

/* A dashed target line across the chart. */
function target(g, value, color, left, width, h, top, label) {
	var y = top + h * (1 - value / 100);
	g.appendChild(svg("line", { x1: left, x2: left + width, y1: y, y2: y, stroke: color, "stroke-dasharray": "6 4" }));
	g.appendChild(svg("text", { x: left + width + 4, y: y + 4, "font-size": 10, fill: color }, label + " " + value + "%"));
}

/* Draw the bars per dimension with the targets. */
function drawChart(doc) {
	var top = 20, h = 200, left = 40, step = 80, width = step * 8;
	var s = svg("svg", { width: left + width + 120, height: top + h + 40, role: "img", "aria-label": "Biểu đồ theo lĩnh vực" });
	for (var p = 0; p <= 100; p += 25) {
		var y = top + h * (1 - p / 100);
		s.appendChild(svg("line", { x1: left, x2: left + width, y1: y, y2: y, stroke: "#eee" }));
		s.appendChild(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 10 }, p + "%"));
	}
	doc.rows.forEach(function (r, i) {
		var x = left + i * step + 10;
		var g = svg("g", { "class": "dim", "data-dim": r.key });
		bar(g, x, 28, r.on_time_rate, "#3b73b9", h, top);
		bar(g, x + 30, 28, r.satisfaction_rate, "#e08a1e", h, top);
		g.appendChild(svg("text", { x: x + 29, y: top + h + 14, "text-anchor": "middle", "font-size": 11 }, SHORT[r.key] || r.key));
		s.appendChild(g);
	});
	target(s, doc.targets.on_time_rate, "#3b73b9", left, width, h, top, "Đúng hạn");
	target(s, doc.targets.satisfaction_rate, "#e08a1e", left, width, h, top, "Hài lòng");
	s.appendChild(svg("rect", { x: left, y: top + h + 22, width: 10, height: 10, fill: "#3b73b9" }));
	s.appendChild(svg("text", { x: left + 14, y: top + h + 31, "font-size": 11 }, "Tỷ lệ đúng hạn"));
	s.appendChild(svg("rect", { x: left + 130, y: top + h + 22, width: 10, height: 10, fill: "#e08a1e" }));
	s.appendChild(svg("text", { x: left + 144, y: top + h + 31, "font-size": 11 }, "Tỷ lệ hài lòng"));
	var c = document.getElementById("chart");
	c.innerHTML = "";
	c.appendChild(s);
}

/* The trend arrow from the previous period's score. */
function trend(r) {
	var now = r.score, before = r.previous ? r.previous.score : null;
	if (now === null || before === null || before === undefined) return el("span", "–", "same");
	var d = now - before;
	if (Math.abs(d) < 0.005) return el("span", "▬ 0", "same");
	return el("span", (d > 0 ? "▲ +" : "▼ ") + fmt(d, 2), d > 0 ? "up" : "down");
}

/* A table cell, right-aligned for numbers. */
function cell(tr, text, num) {
	var td = el("td", text, num ? "n" : "");
	tr.appendChild(td);
	return td;
}

/* Draw the ranking of the child units. */
function drawRanking(doc) {
	var body = document.querySelector("#ranking tbody");
	body.innerHTML = "";
	doc.rows.filter(function (r) { return !r.own; }).sort(function (a, b) {
		return (a.rank || 1e9) - (b.rank || 1e9) || a.key.localeCompare(b.key);
	}).forEach(function (r) {
		var tr = el("tr", null, r.tier ? "tier" + r.tier : "");
		tr.setAttribute("data-unit", r.key);
		cell(tr, r.rank ? r.rank + "/" + r.ranked : "–", true);
		var a = el("a", r.name);
		a.addEventListener("click", function () { document.getElementById("unit").value = r.key; load(); });
		cell(tr, "").appendChild(a);
		cell(tr, fmt(r.score, 2), true);
		cell(tr, "").appendChild(trend(r));
		cell(tr, r.tier ? TIERS[r.tier] : "Chưa xếp hạng");
		cell(tr, fmt(r.received, 0), true);
		cell(tr, fmt(r.on_time_rate, 1), true);
		cell(tr, fmt(r.satisfaction_rate, 1), true);
		cell(tr, fmt(r.open_overdue, 0), true);
		body.appendChild(tr);
	});
}

/* Draw the overdue complaints. */
function drawOverdue(doc) {
	var body = document.querySelector("#overdue tbody");
	body.innerHTML = "";
	(doc.overdue || []).forEach(function (c) {
		var tr = el("tr");
		cell(tr, c.ticket);
		cell(tr, c.unit_name);
		cell(tr, c.category_name);
		cell(tr, c.due);
		cell(tr, fmt(c.days_late, 0), true);
		cell(tr, c.text === null ? "(nội dung được bảo vệ)" : c.text);
		body.appendChild(tr);
	});
	if (!body.children.length) body.appendChild(el("tr")).appendChild(el("td", "Không có phản ánh quá hạn."));
}

var DESK_REASONS = { no_place: "Chưa rõ xã/phường", no_category: "Chưa rõ lĩnh vực",
	sent_back: "Đơn vị trả lại" };

/* Call the officials' API with the token: GET, or POST a JSON body. */
function officials(path, body) {
	var init = { headers: { Authorization: "Bearer " + sessionStorage.getItem("pakn_token") } };
	if (body) {
		init.method = "POST";
		init.headers["Content-Type"] = "application/json";
		init.body = JSON.stringify(body);
	}
	return fetch(path, init).then(function (r) {
		return r.json().then(function (j) {
			if (!r.ok) throw new Error(j.error ? j.error.message : "HTTP " + r.status);
			return j;
		});
	});
}

/* The forward form of one waiting complaint: place and category. */
function forwardForm(c) {
	var f = el("form"), place = el("input"), cat = el("input");
	place.size = 6;
	place.placeholder = "mã xã";
	place.value = c.location_unit ? c.location_unit.code : "";
	cat.size = 12;
	cat.placeholder = "lĩnh vực";
	cat.value = c.triage ? "" : c.category.code;
	f.appendChild(place);
	f.appendChild(cat);
	f.appendChild(el("button", "Chuyển tiếp"));
	f.addEventListener("submit", function (ev) {
		ev.preventDefault();
		var b = {};
		if (place.value.trim()) b.place = place.value.trim();
		if (cat.value.trim()) b.category = cat.value.trim();
		officials("/v1/complaints/" + encodeURIComponent(c.ticket) + "/forward", b)
			.then(loadDesk).catch(function (e) { showError(c.ticket + ": " + e.message); });
	});
	return f;
}

/* Draw the triage desk's queue; hidden unless the token is a desk's. */
function drawDesk(doc) {
	var sec = document.getElementById("desk"), body = document.querySelector("#deskqueue tbody");
	sec.hidden = !doc.desks.length;
	if (!doc.desks.length) return;
	document.getElementById("desktitle").textContent = "Bộ phận tiếp nhận: " +
		doc.desks.map(function (d) { return d.name; }).join(", ") + " (" + doc.total + " phản ánh chờ)";
	body.innerHTML = "";
	doc.complaints.forEach(function (c) {
		var tr = el("tr");
		tr.setAttribute("data-ticket", c.ticket);
		cell(tr, c.ticket);
		cell(tr, (DESK_REASONS[c.desk.reason] || c.desk.reason || "") + (c.desk.note ? ": " + c.desk.note : ""));
		cell(tr, new Date(c.created_at).toLocaleString("vi-VN"));
		cell(tr, c.triage ? "–" : c.category.name);
		cell(tr, c.location_unit ? c.location_unit.name : "–");
		cell(tr, c.text === null ? "(nội dung được bảo vệ)" : c.text);
		cell(tr, "").appendChild(forwardForm(c));
		body.appendChild(tr);
	});
	if (!body.children.length) body.appendChild(el("tr")).appendChild(el("td", "Không có phản ánh chờ."));
}

/* Load the triage desk's queue (GET /v1/desk). */
function loadDesk() {
	return officials("/v1/desk").then(drawDesk)
		.catch(function (e) { showError("Bộ phận tiếp nhận: " + e.message); });
}

/* Draw the survey figures per unit and procedure, then the total. */
function drawSurveys(doc) {
	var body = document.querySelector("#survey tbody"), sv = doc.surveys || { rows: [], total: {} };
	body.innerHTML = "";
	sv.rows.concat([sv.total]).forEach(function (r, i) {
		var tr = el("tr", null, i === sv.rows.length ? "total" : null);
		cell(tr, r.unit ? r.unit.name : "Tổng");
		cell(tr, r.procedure ? r.procedure.name : "");
		cell(tr, fmt(r.services, 0), true);
		cell(tr, fmt(r.surveys_sent, 0), true);
		cell(tr, fmt(r.response_rate, 1), true);
		cell(tr, fmt(r.satisfaction_rate, 1), true);
		cell(tr, fmt(r.mean_satisfaction, 2), true);
		cell(tr, fmt(r.on_time_experienced_rate, 1), true);
		cell(tr, fmt(r.on_time_recorded_rate, 1), true);
		cell(tr, fmt(r.on_time_gap, 1), true);
		cell(tr, fmt(r.money_asked_rate, 1), true);
		body.appendChild(tr);
	});
}

/* Download the survey figures as CSV (the token goes in a header). */
function surveyCsv(ev) {
	ev.preventDefault();
	var q = "unit=" + encodeURIComponent(document.getElementById("unit").value.trim()) +
		"&period=" + encodeURIComponent(period()) + "&by=survey";
	fetch("/v1/stats.csv?" + q, { headers: { Authorization: "Bearer " + sessionStorage.getItem("pakn_token") } })
		.then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.blob(); })
		.then(function (b) {
			var a = el("a");
			a.href = URL.createObjectURL(b);
			a.download = "khao-sat-" + period() + ".csv";
			a.click();
		})
		.catch(function (e) { showError(e.message); });
}

/* Load both tables for the chosen unit and period. */
function load() {
	var unit = document.getElementById("unit").value.trim(), p = period();
	var st = document.getElementById("status");
	st.textContent = "Đang tải…";
	return Promise.all([api({ unit: unit, period: p, by: "dimension" }),
		api({ unit: unit, period: p, by: "unit", overdue: "50" })])
		.then(function (d) {
			document.getElementById("unit").value = d[0].unit.code;
			drawCards(d[0]);
			drawChart(d[0]);
			drawRanking(d[1]);
			drawOverdue(d[1]);
			drawSurveys(d[1]);
			st.textContent = "Cập nhật " + new Date(d[0].generated_at).toLocaleString("vi-VN") +
				(d[0].viewer ? " · " + d[0].viewer.name : "");
			document.body.setAttribute("data-loaded", "1");
		})
		.catch(function (e) {
			st.textContent = "";
			/* A desk's officer has the desk's queue, not the figures. */
			if (!document.getElementById("desk").hidden && /leaders/.test(e.message))
				st.textContent = "Thống kê dành cho lãnh đạo; bạn xem hàng chờ của bộ phận tiếp nhận.";
			else
				showError(e.message);
		});
}

/* Start: token from the fragment (#token=...) or the session, the period
 * from the fragment (#period=2026-10) or the current month. */
function start() {
	var frag = new URLSearchParams(location.hash.slice(1)), now = new Date();
	if (frag.get("token")) sessionStorage.setItem("pakn_token", frag.get("token"));
	var p = frag.get("period") || (now.getFullYear() + "-" + ("0" + (now.getMonth() + 1)).slice(-2));
	if (frag.get("unit")) document.getElementById("unit").value = frag.get("unit");
	history.replaceState(null, "", location.pathname);
	var m = /^(\d{4})(?:-(\d{2})|-Q(\d)|-H(\d)|-(M9))?$/.exec(p) || [];
	document.getElementById("year").value = m[1] || now.getFullYear();
	document.getElementById("kind").value = m[2] ? "month" : m[3] ? "Q" : m[4] ? "H" : m[5] ? "M9" : "year";
	fillParts(m[2] || m[3] || m[4]);
	document.getElementById("kind").addEventListener("change", function () { fillParts(); });
	document.getElementById("surveycsv").addEventListener("click", surveyCsv);
	document.getElementById("filter").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
	document.getElementById("loginform").addEventListener("submit", function (ev) {
		ev.preventDefault();
		sessionStorage.setItem("pakn_token", document.getElementById("token").value);
		loadDesk().then(load);
	});
	if (sessionStorage.getItem("pakn_token")) {
		document.getElementById("login").hidden = true;
		loadDesk().then(load);
	}
}
start();
