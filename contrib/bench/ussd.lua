-- wrk script: USSD steps, Africa's Talking style. Each connection walks
-- sessions of two steps: the first (empty text: the main menu), then "1"
-- (the PAPI dimensions), so both a new session and a continued one are
-- measured. Set TOKEN in the environment.
local n = 0

function setup(thread)
	n = n + 1
	thread:set("tid", n)
end

function init(args)
	counter = 0
	token = os.getenv("TOKEN") or "bench"
	run = os.getenv("RUN") or "0"
end

function request()
	counter = counter + 1
	local k = math.floor((counter + 1) / 2)
	local session = string.format("s%s-%d-%d", run, tid, k)
	local text = (counter % 2 == 1) and "" or "1"
	local body = "sessionId=" .. session .. "&serviceCode=%2A384%2A7%23" ..
		"&phoneNumber=%2B849" .. string.format("%d%07d", tid, k % 10000000) ..
		"&networkCode=45204&text=" .. text
	return wrk.format("POST", "/v1/gw/at/ussd?token=" .. token,
		{["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function response(status, headers, body)
	if status ~= 200 or not (body:sub(1, 4) == "CON " or body:sub(1, 4) == "END ") then
		wrk.thread:stop()
	end
end
