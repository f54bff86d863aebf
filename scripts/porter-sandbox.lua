#!/usr/bin/env lua5.4
-- porter-sandbox as the rock installs it (porter-lua carries the same command built in).
os.exit(require("porter_sandbox.cli").main(arg, {}))
