-- wrk: post the sign-up form with a new address from a new client every time,
-- and count the 303s (the sign-ups accepted).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
  thread:set("accepted", 0)
end

local counter = 0

function request()
  counter = counter + 1
  local body = "email=t" .. id .. "n" .. counter .. "%40example.com&website="
  local ip = "10." .. id .. "." .. (math.floor(counter / 256) % 256) .. "." .. (counter % 256)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Real-IP"] = ip,
  }, body)
end

function response(status, headers, body)
  if status == 303 then
    accepted = accepted + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("accepted")
  end
  io.write("accepted " .. total .. "\n")
end
