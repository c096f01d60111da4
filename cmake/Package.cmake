# `make deb`: lineage_<version>_amd64.deb through CPack's DEB generator.
#
# CPack and not a debian/ directory: the install rules (binary, man page,
# completions, the recorder's unit) already live in CMake, and CPack turns
# them into a package from the same build tree, with dependencies computed
# from the binary by dpkg-shlibdeps. The package installs under /usr; the
# unit's ExecStart is written at install time with the prefix installed to.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lineage)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "why is this process running, and who started it")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "lineage explains a process from the kernel's own evidence: its chain of\n parents, the systemd unit, container, cron job, ssh session, tmux or\n screen session or supervisor that started it, with what was read. It\n draws the process forest, streams fork/exec/exit events with eBPF,\n records history that survives the launchers exiting, and audits the\n process tree for the shapes attacks leave.")
set(CPACK_PACKAGE_CONTACT "lineage developers <lineage-dev@example.org>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "lineage developers <lineage-dev@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # lineage_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/dist/debian/postinst;${PROJECT_SOURCE_DIR}/dist/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/;/\\\\.git/")
include(CPack)
