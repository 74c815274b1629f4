-- wrk script: Africa's Talking callbacks where every thread texts from
-- the same 32 citizens, and every 10th callback is a redelivery of a
-- message another thread sent: concurrent batches share citizen rows and
-- message ids, as when a gateway retries or a citizen sends two messages
-- in a row. Counts the answers that are not 200 instead of stopping.
-- Set TOKEN in the environment.
local threads = {}
local n = 0

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
end

function request()
	counter = counter + 1
	local phone = string.format("%%2B849100%05d", counter % 32)
	local id = string.format("s%s-%d-%d", run, tid, counter)
	if counter % 10 == 0 then
		-- The other thread's message of about the same moment.
		id = string.format("s%s-%d-%d", run, 3 - tid, counter - 1)
	end
	local body = "from=" .. phone .. "&to=8079&text=PA+Duong+ngap+nuoc" ..
		"&date=2026-12-01+02%3A31%3A26&id=" .. id .. "&linkId=L"
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
	io.write(string.format("shared-citizen non-200: %d\n", total))
end
