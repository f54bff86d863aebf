-- busted output handler: busted's own terminal output, then the one line CI reads.
return function(options)
  local busted = require("busted")
  local inner = require("busted.outputHandlers.gtest")(options)
  local function summary()
    local failed = inner.failuresCount + inner.errorsCount
    io.write(string.format("%d passed, %d failed\n", inner.successesCount, failed))
    io.flush()
    return nil, true
  end
  busted.subscribe({ "suite", "end" }, summary)
  return inner
end
