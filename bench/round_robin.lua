-- wrk script: every request carries the next token of a file of pre-minted tokens, in file
-- order, so no token repeats until the file is used up (it then starts over and counts a
-- wrap). Arguments after `--`: the token file and the 0-based index to start at, so a
-- measured run continues where its warm-up stopped.
--
-- At the end it prints `round robin: next <index> wraps <n> tokens <count>` for the bench.

-- Globals, so `done` can read them from the thread's state with `thread:get`.
position = 0
wraps = 0
count = 0

local tokens = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      tokens[#tokens + 1] = "Bearer " .. line
    end
  end
  count = #tokens
  position = (tonumber(args[2]) or 0) % count
end

function request()
  wrk.headers["Authorization"] = tokens[position + 1]
  position = position + 1
  if position == count then
    position = 0
    wraps = wraps + 1
  end
  return wrk.format()
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("round robin: next %d wraps %d tokens %d\n",
      thread:get("position"), thread:get("wraps"), thread:get("count")))
  end
end
