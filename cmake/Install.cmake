# The systemd unit of `lineage record`. The binary, man page and completions
# are installed by src/CMakeLists.txt.
#
# ExecStart names the installed binary: CMAKE_INSTALL_FULL_BINDIR is fixed
# when CMake configures, so install with the prefix configured
# (-DCMAKE_INSTALL_PREFIX=...), staged with DESTDIR if need be; a later
# `cmake --install --prefix` moves the files but not this path.
include(GNUInstallDirs)

set(LINEAGE_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the lineage-record unit is installed (relative: under the install prefix)")

configure_file(${PROJECT_SOURCE_DIR}/dist/lineage-record.service.in
               ${PROJECT_BINARY_DIR}/lineage-record.service @ONLY)

# Installed, not enabled: `systemctl enable --now lineage-record` is the
# administrator's choice. Written at install time with the prefix installed
# to (a package built by CPack installs under /usr whatever was configured).
install(CODE "
  set(CMAKE_INSTALL_FULL_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/dist/lineage-record.service.in\"
                 \"${PROJECT_BINARY_DIR}/install-unit/lineage-record.service\" @ONLY)")
install(FILES ${PROJECT_BINARY_DIR}/install-unit/lineage-record.service DESTINATION ${LINEAGE_SYSTEMD_UNITDIR})

# The man page and the package's changelog, compressed as Debian wants them;
# the copyright file.
configure_file(${PROJECT_SOURCE_DIR}/dist/debian/changelog.in ${PROJECT_BINARY_DIR}/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/lineage.1.gz ${PROJECT_BINARY_DIR}/changelog.gz
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/docs/lineage.1 > ${PROJECT_BINARY_DIR}/lineage.1.gz
  COMMAND gzip -9n -c ${PROJECT_BINARY_DIR}/changelog > ${PROJECT_BINARY_DIR}/changelog.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/lineage.1 ${PROJECT_BINARY_DIR}/changelog)
add_custom_target(compressed_docs ALL DEPENDS ${PROJECT_BINARY_DIR}/lineage.1.gz ${PROJECT_BINARY_DIR}/changelog.gz)
# Built with the binary: installing (and cpack) does not build first
# (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY), and `make lineage` builds only this.
add_dependencies(lineage compressed_docs)
install(FILES ${PROJECT_BINARY_DIR}/lineage.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_BINARY_DIR}/changelog.gz ${PROJECT_SOURCE_DIR}/dist/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
