# Public targets and install rules for tern as a library (included by the
# top-level CMakeLists.txt after tern_core, its apps and the posix port).
#
# add_subdirectory(tern) and find_package(tern) give the same names:
#   tern::core   the stack (src/)            tern::posix  the Linux host port
#   tern::apps   every bundled application   tern::dhcp, tern::dns,
#                                            tern::http, tern::services
# `cmake --install` installs the headers, the libraries, a CMake package
# config (lib/cmake/tern) and a pkg-config file (tern.pc).
set(TERN_PUBLIC_TARGETS tern_core tern_core_apps tern_posix_tern_core)
foreach(app ${TERN_APPS})
    list(APPEND TERN_PUBLIC_TARGETS tern_core_${app})
    set_target_properties(tern_core_${app} PROPERTIES EXPORT_NAME ${app})
    add_library(tern::${app} ALIAS tern_core_${app})
endforeach()
set_target_properties(tern_core PROPERTIES EXPORT_NAME core)
set_target_properties(tern_core_apps PROPERTIES EXPORT_NAME apps)
set_target_properties(tern_posix_tern_core PROPERTIES EXPORT_NAME posix)
add_library(tern::core ALIAS tern_core)
add_library(tern::apps ALIAS tern_core_apps)
add_library(tern::posix ALIAS tern_posix_tern_core)

install(TARGETS ${TERN_PUBLIC_TARGETS} EXPORT tern-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tern DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/ports/posix/tern_posix.h ${PROJECT_SOURCE_DIR}/ports/posix/tern_tap.h
              ${PROJECT_SOURCE_DIR}/ports/posix/tern_pcap.h ${PROJECT_SOURCE_DIR}/ports/posix/tern_vwire.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tern/posix)
if(TERN_USER_CONFIG)
    # The installed library was compiled with this header: it goes along,
    # next to tern/, where TERN_USER_CONFIG names it.
    install(FILES ${TERN_USER_CONFIG_PATH} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(EXPORT tern-targets NAMESPACE tern:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tern)
file(WRITE ${PROJECT_BINARY_DIR}/tern-config.cmake
     "include(CMakeFindDependencyMacro)\nfind_dependency(Threads)\n"
     "include(\${CMAKE_CURRENT_LIST_DIR}/tern-targets.cmake)\n")
install(FILES ${PROJECT_BINARY_DIR}/tern-config.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tern)

# pkg-config: the same libraries, in link order (apps before the core).
set(TERN_PC_CFLAGS "")
if(TERN_USER_CONFIG)
    set(TERN_PC_CFLAGS "-DTERN_USER_CONFIG=\\\"${TERN_USER_CONFIG_NAME}\\\"")
endif()
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/tern.pc CONTENT
"prefix=${CMAKE_INSTALL_PREFIX}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}

Name: tern
Description: TCP/IP stack for microcontrollers (core, apps and the Linux host port)
Version: 0.1
Cflags: -I\${includedir} -I\${includedir}/tern/posix ${TERN_PC_CFLAGS}
Libs: -L\${libdir} -ltern_core_http -ltern_core_dns -ltern_core_dhcp -ltern_core_services -ltern_posix_tern_core -ltern_core -pthread
")
install(FILES ${PROJECT_BINARY_DIR}/tern.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
