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
# administrator's choice.
install(FILES ${PROJECT_BINARY_DIR}/lineage-record.service DESTINATION ${LINEAGE_SYSTEMD_UNITDIR})
