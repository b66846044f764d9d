-- wrk: every request from a new visitor — a new client address (X-Real-IP,
-- trusted by the bench site's [redirector] client_ip_header) and one of
-- three user agents — so the click writer meets visitors it has not counted
-- yet today, as in a real burst, not the one visitor plain wrk is.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local agents = {
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
  "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
}
local counter = 0

function request()
  counter = counter + 1
  return wrk.format("GET", nil, {
    ["X-Real-IP"] = string.format("2001:db8:%x::%x", id, counter),
    ["User-Agent"] = agents[counter % 3 + 1],
  })
end
