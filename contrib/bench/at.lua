-- wrk script: Africa's Talking SMS callbacks (POST, form), each a new
-- complaint with its own message id from one of many citizens, naming a
-- commune of config/units.sample.csv (#code) and a problem of a seeded
-- category, so the whole complaint logic runs (classify, route,
-- deadline, ticket, ledger, ack with the ticket). The same load goes to
-- contrib/bench/pgline (the line) and to paknd. Counts the answers that
-- are not 200 instead of stopping.
-- Environment: TOKEN, RUN (prefix of the message ids: one per load),
-- NAMES=1 (the same communes named as citizens name them, "phường Ba
-- Đình", no code: each complaint's place is looked up by name), CODES
-- (a file of unit codes, one a line: each complaint names the next, in
-- turn, instead of the 8 communes of the texts), STATUS (a file of
-- "msisdn ticket" lines: each callback is instead a status query, "TT
-- ticket", from the complaint's own phone, the lines taken in turn;
-- with RATE=1 a rating, "DG ticket 5", instead; with RATE=digit the
-- bare "5" that answers the rating question), PHONE0 (the number of
-- the load's first phone: each load of a run its own phones, so that
-- one with the per-phone limits on measures complaints, not refusals).
local threads = {}
local n = 0
local texts_by_name = {
	"PA Duong ngap nuoc sau mua o phuong Ba Dinh",
	"PA Rac thai khong duoc thu gom 3 ngay, phuong Hoan Kiem",
	"PA Mất điện cả khu phố từ sáng ở phường Sài Gòn",
	"PA Den duong hong truoc so 12 P. Ngoc Ha",
	"PA Nuoc may co mui, nuoc ban tai xa Soc Son",
	"PA O ga lon tren duong vao cho phuong Tan Dinh",
	"PA Trom xe may dem qua o ngo 5 phuong Cua Nam",
	"PA Tram y te dong cua gio hanh chinh xa Dong Anh",
}
local texts = {
	"PA Duong ngap nuoc sau mua #00004",
	"PA Rac thai khong duoc thu gom 3 ngay #00070",
	"PA Mất điện cả khu phố từ sáng #26740",
	"PA Den duong hong truoc so 12 #00008",
	"PA Nuoc may co mui, nuoc ban #00376",
	"PA O ga lon tren duong vao cho #26737",
	"PA Trom xe may dem qua o ngo 5 #00082",
	"PA Tram y te dong cua gio hanh chinh #00454",
}

function setup(thread)
	n = n + 1
	thread:set("tid", n)
	table.insert(threads, thread)
end

function init(args)
	counter = 0
	bad = 0
	token = os.getenv("TOKEN") or "bench"
	run = os.getenv("RUN") or "0"
	phone0 = tonumber(os.getenv("PHONE0") or "0")
	if os.getenv("NAMES") == "1" then
		texts = texts_by_name
	end
	status = {}
	local sf = os.getenv("STATUS") and io.open(os.getenv("STATUS"))
	if sf then
		for line in sf:lines() do
			local m, t = line:match("^(%S+) (%S+)$")
			if m then
				table.insert(status, {m, t})
			end
		end
		sf:close()
	end
	codes = {}
	local f = os.getenv("CODES") and io.open(os.getenv("CODES"))
	if f then
		for line in f:lines() do
			table.insert(codes, line)
		end
		f:close()
	end
end

-- Percent-encode a form value.
local function enc(s)
	return (s:gsub("[^%w%-%._~]", function(c)
		return string.format("%%%02X", string.byte(c))
	end))
end

function request()
	counter = counter + 1
	local id = string.format("%s-%d-%d", run, tid, counter)
	-- Many citizens: a phone a complaint within a load (with PHONE0 a
	-- range for each load, a phone a complaint within the run).
	local from = string.format("%%2B849%d%07d", tid,
		(phone0 + counter) % 10000000)
	local text = texts[counter % #texts + 1]
	if #status > 0 then
		-- Each thread its own lines, so that a phone's queries are few.
		local r = status[(counter * 2 + tid) % #status + 1]
		from = enc(r[1])
		local rate = os.getenv("RATE")
		text = rate == "1" and ("DG %s 5"):format(r[2])
			or rate == "digit" and "5" or ("TT %s"):format(r[2])
	end
	if #codes > 0 then
		-- Another commune for each complaint (a prime stride, so that
		-- a batch's are not neighbours).
		text = text:gsub("#%d+$", "#" ..
			codes[(counter * 7919 + tid) % #codes + 1])
	end
	local body = "from=" .. from .. "&to=8079&text=" ..
		enc(text) ..
		"&date=2026-12-01+02%3A31%3A26&id=" .. id .. "&linkId=L" .. id
	return wrk.format("POST", "/v1/gw/at/sms?token=" .. token,
		{["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function response(status, headers, body)
	if status ~= 200 then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local total = 0
	for _, t in ipairs(threads) do
		total = total + t:get("bad")
	end
	io.write(string.format("non-200: %d\n", total))
end
