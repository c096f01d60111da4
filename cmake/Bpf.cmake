# Builds each program of LINEAGE_BPF_PROGRAMS (bpf/<name>.bpf.c: today
# process_events and socket_owners) into a libbpf skeleton header and exposes
# them all as the INTERFACE library `lineage_bpf_skeleton` (include dir of the
# <name>.skel.h files and of bpf/ + libbpf). Sets LINEAGE_BPF_FOUND.
#
#   vmlinux.h   bpftool btf dump file <BTF> format c        (at build time)
#   .bpf.o      clang -g -O2 -target bpf -D__TARGET_ARCH_<arch>
#   .skel.h     bpftool gen skeleton
#
# Options: LINEAGE_BPF (ON) builds it; LINEAGE_VMLINUX_BTF names the kernel
# BTF to generate vmlinux.h from; LINEAGE_VMLINUX_H uses a ready vmlinux.h
# instead (for a build machine without BTF). CO-RE makes the object portable:
# the BTF of the build machine need not be that of the machine it runs on.

option(LINEAGE_BPF "Build the eBPF event source (needs clang, bpftool, libbpf)" ON)
set(LINEAGE_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from")
set(LINEAGE_VMLINUX_H "" CACHE FILEPATH
    "A pre-generated vmlinux.h (skips generation from LINEAGE_VMLINUX_BTF)")
set(LINEAGE_BPF_FOUND OFF)

function(_lineage_bpf_missing what)
  message(FATAL_ERROR
    "lineage eBPF source: ${what}\n"
    "Install the Debian packages: apt-get install -y clang llvm bpftool libbpf-dev "
    "libelf-dev zlib1g-dev, or configure with -DLINEAGE_BPF=OFF to build without it "
    "(lineage then uses the netlink or /proc polling sources).")
endfunction()

if(LINEAGE_BPF)
  find_program(LINEAGE_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
  find_program(LINEAGE_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin)
  find_program(LINEAGE_LLVM_STRIP NAMES llvm-strip llvm-strip-16 llvm-strip-15 llvm-strip-14)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBBPF IMPORTED_TARGET libbpf>=0.8)

  if(NOT LINEAGE_BPF_CLANG)
    _lineage_bpf_missing("clang not found (it compiles the BPF program).")
  endif()
  if(NOT LINEAGE_BPFTOOL)
    _lineage_bpf_missing("bpftool not found (it generates vmlinux.h and the skeleton).")
  endif()
  if(NOT LIBBPF_FOUND)
    _lineage_bpf_missing("libbpf >= 0.8 not found by pkg-config.")
  endif()
  if(NOT LINEAGE_VMLINUX_H AND NOT EXISTS "${LINEAGE_VMLINUX_BTF}")
    _lineage_bpf_missing(
      "no kernel BTF at ${LINEAGE_VMLINUX_BTF}: this kernel was built without "
      "CONFIG_DEBUG_INFO_BTF. Point -DLINEAGE_VMLINUX_BTF at a BTF file (e.g. from a "
      "kernel with BTF) or -DLINEAGE_VMLINUX_H at a generated vmlinux.h.")
  endif()

  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
    set(_bpf_arch x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(_bpf_arch arm64)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
    set(_bpf_arch arm)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(ppc64|ppc64le|powerpc64)")
    set(_bpf_arch powerpc)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^s390")
    set(_bpf_arch s390)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv")
    set(_bpf_arch riscv)
  else()
    _lineage_bpf_missing("unknown architecture ${CMAKE_SYSTEM_PROCESSOR} for -D__TARGET_ARCH_.")
  endif()

  set(_bpf_src_dir "${CMAKE_CURRENT_LIST_DIR}/../bpf")
  get_filename_component(_bpf_src_dir "${_bpf_src_dir}" ABSOLUTE)
  set(_bpf_out_dir "${PROJECT_BINARY_DIR}/bpf")
  file(MAKE_DIRECTORY "${_bpf_out_dir}")

  if(LINEAGE_VMLINUX_H)
    configure_file("${LINEAGE_VMLINUX_H}" "${_bpf_out_dir}/vmlinux.h" COPYONLY)
  else()
    add_custom_command(
      OUTPUT "${_bpf_out_dir}/vmlinux.h"
      COMMAND sh -c "\"$1\" btf dump file \"$2\" format c > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
              sh "${LINEAGE_BPFTOOL}" "${LINEAGE_VMLINUX_BTF}" "${_bpf_out_dir}/vmlinux.h"
      COMMENT "Generating vmlinux.h from ${LINEAGE_VMLINUX_BTF}"
      VERBATIM)
  endif()

  set(_bpf_cflags -g -O2 -target bpf -D__TARGET_ARCH_${_bpf_arch}
      -I${_bpf_out_dir} -I${_bpf_src_dir})
  foreach(dir IN LISTS LIBBPF_INCLUDE_DIRS)
    list(APPEND _bpf_cflags -idirafter ${dir})
  endforeach()
  # One object and one skeleton per program: bpf/<name>.bpf.c (with its
  # shared record header bpf/<name>.h) -> <name>.bpf.o -> <name>.skel.h,
  # skeleton struct <name>_bpf.
  set(LINEAGE_BPF_PROGRAMS process_events socket_owners holders task_stats trace_io)
  set(_bpf_skels)
  foreach(_prog IN LISTS LINEAGE_BPF_PROGRAMS)
    set(_bpf_obj "${_bpf_out_dir}/${_prog}.bpf.o")
    set(_bpf_strip_cmd)
    if(LINEAGE_LLVM_STRIP)
      # Drop DWARF, keep BTF: the skeleton embeds the object.
      set(_bpf_strip_cmd COMMAND "${LINEAGE_LLVM_STRIP}" -g "${_bpf_obj}")
    endif()
    add_custom_command(
      OUTPUT "${_bpf_obj}"
      COMMAND "${LINEAGE_BPF_CLANG}" ${_bpf_cflags}
              -c "${_bpf_src_dir}/${_prog}.bpf.c" -o "${_bpf_obj}"
      ${_bpf_strip_cmd}
      DEPENDS "${_bpf_src_dir}/${_prog}.bpf.c" "${_bpf_src_dir}/${_prog}.h"
              "${_bpf_out_dir}/vmlinux.h"
      COMMENT "Compiling BPF object ${_prog}.bpf.o"
      VERBATIM)

    set(_bpf_skel "${_bpf_out_dir}/${_prog}.skel.h")
    add_custom_command(
      OUTPUT "${_bpf_skel}"
      COMMAND sh -c "\"$1\" gen skeleton \"$2\" name $4 > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
              sh "${LINEAGE_BPFTOOL}" "${_bpf_obj}" "${_bpf_skel}" "${_prog}_bpf"
      DEPENDS "${_bpf_obj}"
      COMMENT "Generating BPF skeleton ${_prog}.skel.h"
      VERBATIM)
    list(APPEND _bpf_skels "${_bpf_skel}")
  endforeach()
  # The holders iterators also as a light skeleton (events/holders_lskel.h:
  # loaded without parsing the kernel's BTF in userspace).
  set(_bpf_lskel "${_bpf_out_dir}/holders.lskel.h")
  add_custom_command(
    OUTPUT "${_bpf_lskel}"
    COMMAND sh -c "\"$1\" gen skeleton -L \"$2\" name holders_lbpf > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
            sh "${LINEAGE_BPFTOOL}" "${_bpf_out_dir}/holders.bpf.o" "${_bpf_lskel}"
    DEPENDS "${_bpf_out_dir}/holders.bpf.o"
    COMMENT "Generating BPF light skeleton holders.lskel.h"
    VERBATIM)
  list(APPEND _bpf_skels "${_bpf_lskel}")
  add_custom_target(lineage_bpf_skeleton_gen DEPENDS ${_bpf_skels})

  add_library(lineage_bpf_skeleton INTERFACE)
  # bpf/ too: userspace includes <name>.h for the record layouts.
  target_include_directories(lineage_bpf_skeleton INTERFACE "${_bpf_out_dir}" "${_bpf_src_dir}")
  target_link_libraries(lineage_bpf_skeleton INTERFACE PkgConfig::LIBBPF)
  add_dependencies(lineage_bpf_skeleton lineage_bpf_skeleton_gen)
  set(LINEAGE_BPF_FOUND ON)
  message(STATUS "lineage eBPF source: clang ${LINEAGE_BPF_CLANG}, bpftool ${LINEAGE_BPFTOOL}, "
                 "libbpf ${LIBBPF_VERSION}, arch ${_bpf_arch}")
endif()
