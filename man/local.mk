# man/local.mk -- the manual, sections 3 and 7.
#
# Every page is listed here: the full pages, then the one-line alias pages
# ('.so man3/PAGE.3') that let 'man NAME' find a name documented on a
# sibling's page. tests/man_names.sh fails when a page in man/ is missing
# from this list, or when a public name of the headers has no page.

# Full pages: the concepts (section 7), then the functions and macros.
# Each is built from man/PAGE.in, whose title line says @PACKAGE_VERSION@
# and @MAN_DATE@: make fills in those of configure.ac (a release changes
# configure.ac alone). A new page also needs its line in .gitignore
# (tests/tree_check.sh fails without it).
ma_man_pages = \
	man/miniasync.7 \
	man/miniasync_future.7 \
	man/miniasync_runtime.7 \
	man/miniasync_vdm.7 \
	man/miniasync_vdm_synchronous.7 \
	man/miniasync_vdm_threads.7 \
	man/miniasync_vdm_dsa.7 \
	man/miniasync_vdm_dml.7 \
	man/FUTURE.3 \
	man/FUTURE_CHAIN_ENTRY.3 \
	man/data_mover_dml_new.3 \
	man/data_mover_dsa_new.3 \
	man/data_mover_sync_new.3 \
	man/data_mover_threads_get_vdm.3 \
	man/data_mover_threads_new.3 \
	man/data_mover_threads_set_memcpy_fn.3 \
	man/future_context_get_data.3 \
	man/future_has_property.3 \
	man/future_poll.3 \
	man/runtime_new.3 \
	man/runtime_wait.3 \
	man/vdm_flush.3 \
	man/vdm_generic_operation.3 \
	man/vdm_is_supported.3 \
	man/vdm_memcpy.3 \
	man/vdm_memmove.3 \
	man/vdm_memset.3

nodist_man_MANS = $(ma_man_pages)
EXTRA_DIST += $(ma_man_pages:=.in)
CLEANFILES += $(ma_man_pages)

ma_man_subst = sed -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	-e 's|@MAN_DATE[@]|$(MAN_DATE)|g'

# One rule for every page (pattern rules are not portable make): each page
# depends on all the sources, which costs only a few more sed runs.
$(ma_man_pages): $(ma_man_pages:=.in) Makefile
	$(AM_V_GEN)$(MKDIR_P) man && rm -f $@ $@.tmp && \
	$(ma_man_subst) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@

# Aliases: each is one '.so' line naming the full page that documents it.
dist_man_MANS += \
	man/FUTURE_AS_RUNNABLE.3 \
	man/FUTURE_BUSY_POLL.3 \
	man/FUTURE_CHAIN_ENTRY_HAS_FLAG.3 \
	man/FUTURE_CHAIN_ENTRY_INIT.3 \
	man/FUTURE_CHAIN_ENTRY_IS_INITIALIZED.3 \
	man/FUTURE_CHAIN_ENTRY_IS_LAST.3 \
	man/FUTURE_CHAIN_ENTRY_IS_PROCESSED.3 \
	man/FUTURE_CHAIN_ENTRY_LAST.3 \
	man/FUTURE_CHAIN_ENTRY_LAZY_INIT.3 \
	man/FUTURE_CHAIN_INIT.3 \
	man/FUTURE_DATA.3 \
	man/FUTURE_INIT.3 \
	man/FUTURE_INIT_COMPLETE.3 \
	man/FUTURE_INIT_EXT.3 \
	man/FUTURE_OUTPUT.3 \
	man/FUTURE_STATE.3 \
	man/FUTURE_WAKER_WAKE.3 \
	man/data_mover_dml_delete.3 \
	man/data_mover_dml_get_vdm.3 \
	man/data_mover_dsa_delete.3 \
	man/data_mover_dsa_get_vdm.3 \
	man/data_mover_sync_delete.3 \
	man/data_mover_sync_get_vdm.3 \
	man/data_mover_threads_default.3 \
	man/data_mover_threads_delete.3 \
	man/data_mover_threads_set_memmove_fn.3 \
	man/data_mover_threads_set_memset_fn.3 \
	man/future_chain_entry_flags_get.3 \
	man/future_chain_entry_flags_set.3 \
	man/future_chain_entry_init_pending.3 \
	man/future_chain_entry_next.3 \
	man/future_chain_entry_size.3 \
	man/future_chain_has_property.3 \
	man/future_chain_task.3 \
	man/future_context_get_output.3 \
	man/future_context_get_size.3 \
	man/future_cpu_pause.3 \
	man/future_has_property_default.3 \
	man/runtime_delete.3 \
	man/runtime_wait_multiple.3 \
	man/vdm_operation_impl.3 \
	man/vdm_operation_task.3 \
	man/vdm_set_has_property_fn.3

# The manual's checks: every public name has a page, every page is lint
# clean and fits 80 columns, every example program builds and runs. They
# read the manual as installed (tests/man_pages.sh gathers it).
ma_man_checks = \
	tests/man_names.sh \
	tests/man_lint.sh \
	tests/man_examples.sh

TESTS += $(ma_man_checks)
EXTRA_DIST += $(ma_man_checks) tests/man_pages.sh
