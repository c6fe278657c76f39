# tern as a library target for a firmware project of one's own:
#
#   set(TERN_DIR path/to/tern)
#   include(${TERN_DIR}/cmake/tern-library.cmake)
#   tern_add_library(tern CONFIG "my_tern_config.h" INCLUDE ${CMAKE_CURRENT_SOURCE_DIR})
#   target_link_libraries(my-firmware.elf PRIVATE tern)
#
# CONFIG is the user config header (TERN_USER_CONFIG, include/tern/config.h),
# found through INCLUDE. The library is the core (src/) and the apps (apps/:
# DHCP, DNS, HTTP dashboard, services), with the dashboard's file image
# generated from apps/http/www at build time (python3).
if(NOT DEFINED TERN_DIR)
    get_filename_component(TERN_DIR ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
endif()

function(tern_add_library name)
    cmake_parse_arguments(TL "" "CONFIG" "INCLUDE;DEFINES" ${ARGN})
    file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${TERN_DIR}/src/*.c ${TERN_DIR}/apps/*.c)
    file(GLOB_RECURSE www CONFIGURE_DEPENDS ${TERN_DIR}/apps/http/www/*)
    set(fsimage ${CMAKE_CURRENT_BINARY_DIR}/${name}-generated/http_fsimage.c)
    add_custom_command(OUTPUT ${fsimage}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/${name}-generated
        COMMAND python3 ${TERN_DIR}/scripts/gen-fsimage ${TERN_DIR}/apps/http/www ${fsimage}
        DEPENDS ${TERN_DIR}/scripts/gen-fsimage ${www} VERBATIM)
    add_library(${name} STATIC ${srcs} ${fsimage})
    target_include_directories(${name} PUBLIC ${TERN_DIR}/include ${TL_INCLUDE} PRIVATE ${TERN_DIR}/src)
    if(TL_CONFIG)
        target_compile_definitions(${name} PUBLIC "TERN_USER_CONFIG=\"${TL_CONFIG}\"")
    endif()
    target_compile_definitions(${name} PUBLIC ${TL_DEFINES})
    # The core is freestanding and warning-free under the strict set.
    target_compile_options(${name} PRIVATE -ffreestanding -Wall -Wextra -Wshadow -Wstrict-prototypes
        -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wundef -Wconversion -Wsign-conversion -Werror)
endfunction()
