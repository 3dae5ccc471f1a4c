# man/local.mk -- the manual, sections 3 and 7.
