"""Demo data for `ehcflow demo` and `ehcflow setup`, and for the tests: organisations, users for every role, and cases
driven through the real routes by the engine (demo.seed loads it all). Not part of the engine: the engine never
imports it, and of the web UI only the command line does."""
