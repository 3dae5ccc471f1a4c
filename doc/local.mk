# doc/local.mk -- the design notes, installed under $(docdir) and
# checked by 'make check': tests/doc_check.sh fails when a layout the
# notes state, a test or file they name, a section the tree refers to,
# or a number they or the manual write out (its table) changes without
# them; tests/tree_check.sh when the lists of the tree that "Adding a
# mover" names disagree.

dist_doc_DATA = doc/design.md

TESTS += tests/doc_check.sh tests/tree_check.sh
EXTRA_DIST += tests/doc_check.sh tests/tree_check.sh
