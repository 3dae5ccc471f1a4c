# tests/local.mk -- the test suites, run by 'make check'.
