-- wrk script: USSD steps, Africa's Talking style. Sessions of four
-- steps, as a complaint begins: the main menu (empty text), "1" (the
-- PAPI dimensions), "1*6" (the categories of the sixth), "1*6*1" (the
-- commune question, which offers the registered commune): a new session
-- and continued ones, screens that show what the database knows of the
-- citizen and screens that do not.
-- A phone waits for a screen before it sends the next step, so a
-- session's steps must go one after the other on one connection: run
-- with as many threads as connections (wrk -tN -cN), each thread then
-- walks its own sessions in order. (With several connections a thread,
-- the thread's requests alternate between them and a session's second
-- step could overtake its first.) Prints the screens that were not the
-- expected one ("ussd unexpected: N"); a thread stops at an HTTP error.
-- The step counter moves when an answer comes, not when a request is
-- made: wrk makes one request of the first thread to look at it and
-- never sends it, which put that thread's sessions one step ahead (its
-- first session's second step came first, and expired). Set TOKEN in
-- the environment.
local threads = {}
local n = 0
local texts = {"", "1", "1%2A6", "1%2A6%2A1"}

function setup(thread)
	n = n + 1
	thread:set("tid", n)
	table.insert(threads, thread)
end

function init(args)
	answered = 0
	unexpected = 0
	token = os.getenv("TOKEN") or "bench"
	run = os.getenv("RUN") or "0"
end

function request()
	local k = math.floor(answered / 4) + 1
	local session = string.format("s%s-%d-%d", run, tid, k)
	local text = texts[answered % 4 + 1]
	local body = "sessionId=" .. session .. "&serviceCode=%2A384%2A7%23" ..
		"&phoneNumber=%2B849" .. string.format("%02d%06d", tid % 100, k % 1000000) ..
		"&networkCode=45204&text=" .. text
	return wrk.format("POST", "/v1/gw/at/ussd?token=" .. token,
		{["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

-- The answer to the request just sent (one connection a thread): every
-- step goes on, so each is a CON screen.
function response(status, headers, body)
	answered = answered + 1
	if status ~= 200 then
		wrk.thread:stop()
	elseif body:sub(1, 4) ~= "CON " then
		unexpected = unexpected + 1
	end
end

function done(summary, latency, requests)
	local total = 0
	for _, t in ipairs(threads) do
		total = total + t:get("unexpected")
	end
	io.write(string.format("ussd unexpected: %d\n", total))
end
