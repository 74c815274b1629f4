-- wrk script: Kannel get-url callbacks, each with a new message id.
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
	token = os.getenv("TOKEN") or "bench"
	run = os.getenv("RUN") or "0"
end

function request()
	counter = counter + 1
	local id = string.format("b%s-%d-%d", run, tid, counter)
	-- Many citizens, each with a few complaints, as in life.
	local from = string.format("09%d%07d", tid, counter % 5000000)
	return wrk.format("GET", "/v1/gw/kannel/sms?token=" .. token ..
		"&from=" .. from .. "&to=8079&text=PA+Duong+ngap+nuoc&coding=0" ..
		"&charset=UTF-8&ts=1795401558&id=" .. id)
end

function response(status, headers, body)
	if status ~= 200 then
		wrk.thread:stop()
	end
end
