# cmake/local.mk -- the CMake package: 'make install' puts
#   $(libdir)/cmake/miniasync/miniasync-config.cmake (+ -version.cmake)
#   $(libdir)/cmake/libminiasync/libminiasync-config.cmake (+ -version)
# so that find_package(miniasync) and find_package(libminiasync), the name
# miniasync 0.2 installed, both work. The files name the include and
# library directories relative to themselves (cmake/relpath.sh), so the
# installed tree may be moved. .ci/run's cmake step builds the consumers
# of tests/cmake/ against an installed, then moved, tree.

cmakeminiasyncdir = $(libdir)/cmake/miniasync
cmakelibminiasyncdir = $(libdir)/cmake/libminiasync
ma_cmake_configs = \
	cmake/miniasync-config.cmake \
	cmake/libminiasync-config.cmake
ma_cmake_versions = \
	cmake/miniasync-config-version.cmake \
	cmake/libminiasync-config-version.cmake
nodist_cmakeminiasync_DATA = \
	cmake/miniasync-config.cmake \
	cmake/miniasync-config-version.cmake
nodist_cmakelibminiasync_DATA = \
	cmake/libminiasync-config.cmake \
	cmake/libminiasync-config-version.cmake
CLEANFILES += $(ma_cmake_configs) $(ma_cmake_versions)
EXTRA_DIST += cmake/config.cmake.in cmake/config-version.cmake.in \
	cmake/relpath.sh \
	tests/cmake/compat02/CMakeLists.txt tests/cmake/compat02/main.c \
	tests/cmake/target/CMakeLists.txt tests/cmake/target/main.c

ma_cmake_subst = sed -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	-e 's|@SIZEOF_VOID_P[@]|$(SIZEOF_VOID_P)|g'

# Both directories are at the same depth: one relative path serves both.
$(ma_cmake_configs): $(srcdir)/cmake/config.cmake.in \
		$(srcdir)/cmake/relpath.sh Makefile
	$(AM_V_GEN)$(MKDIR_P) cmake && rm -f $@ $@.tmp && \
	inc=`$(SHELL) $(srcdir)/cmake/relpath.sh \
		'$(cmakeminiasyncdir)' '$(includedir)'` && \
	lib=`$(SHELL) $(srcdir)/cmake/relpath.sh \
		'$(cmakeminiasyncdir)' '$(libdir)'` && \
	$(ma_cmake_subst) -e "s|@MA_CMAKE_INCLUDEDIR[@]|$$inc|g" \
		-e "s|@MA_CMAKE_LIBDIR[@]|$$lib|g" \
		$(srcdir)/cmake/config.cmake.in >$@.tmp && mv $@.tmp $@

$(ma_cmake_versions): $(srcdir)/cmake/config-version.cmake.in Makefile
	$(AM_V_GEN)$(MKDIR_P) cmake && rm -f $@ $@.tmp && \
	major=`echo '$(PACKAGE_VERSION)' | sed 's/\..*//'` && \
	$(ma_cmake_subst) -e "s|@MA_VERSION_MAJOR[@]|$$major|g" \
		$(srcdir)/cmake/config-version.cmake.in >$@.tmp && \
	mv $@.tmp $@
