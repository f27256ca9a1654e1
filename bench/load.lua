-- wrk script of bench/load.py: every connection asks, in turn, for the paths listed in a file
-- (the ticket list, thread pages, the read-info API), signed in with the session cookie given.
-- Any answer other than 2xx is counted (a 3xx would mean the session was lost: wrk's own
-- "Non-2xx or 3xx responses" does not count those) and printed by done() as
-- "Responses other than 2xx: N".
--
-- Run: wrk ... -s bench/load.lua URL -- PATHS_FILE COOKIE USER_AGENT

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local paths = {}
local headers = {}
local position = 0
not_2xx = 0  -- global: done() reads it from each thread

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  headers["Cookie"] = args[2]
  headers["User-Agent"] = args[3]
  position = (id * 7) % #paths  -- threads start at different places in the rotation
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position], headers)
end

function response(status, response_headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_2xx")
  end
  io.write(string.format("Responses other than 2xx: %d\n", total))
end
