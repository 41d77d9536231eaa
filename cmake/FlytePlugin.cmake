# flyte_add_plugin(<name> SOURCES <registration.cc> [LIB_SOURCES <logic.cc>...] [LIBS ...]
#                  [OUTPUT_DIR dir] [NO_INSTALL])
# Builds lib<name>.so the way STYLE.md requires: hidden visibility, no undefined symbols, an
# $ORIGIN rpath, system shared libraries only, output in the plugin directory. LIB_SOURCES go
# into the static library <name>_lib (the logic, unaware of the loader), which tests link.
function(flyte_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIB_SOURCES;LIBS" ${ARGN})
  set(libs ${P_LIBS})
  if(P_LIB_SOURCES)
    add_library(${name}_lib STATIC ${P_LIB_SOURCES})
    target_include_directories(${name}_lib PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${name}_lib PUBLIC flyte_plugin_api ${P_LIBS})
    set(libs ${name}_lib)
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${FLYTE_PLUGIN_OUTPUT_DIR})
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lib" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    BUILD_RPATH "$ORIGIN/../..;${CMAKE_BINARY_DIR}/lib"
    INSTALL_RPATH "$ORIGIN/../..")
  target_link_libraries(${name} PRIVATE flyte_plugin_api ${libs})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(NOT P_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${FLYTE_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
