# flyte_add_plugin(<target> NAME <file-stem> SOURCES ... [LIBS ...]): builds a plugin .so the
# way STYLE.md requires: hidden visibility, no undefined symbols, $ORIGIN rpath, system shared
# libraries only, output in the plugin directory as lib<file-stem>.so.
function(flyte_add_plugin target)
  cmake_parse_arguments(P "" "NAME;OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  add_library(${target} MODULE ${P_SOURCES})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${FLYTE_PLUGIN_OUTPUT_DIR})
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "lib" OUTPUT_NAME ${P_NAME}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    BUILD_RPATH "$ORIGIN/../..;${CMAKE_BINARY_DIR}/lib"
    INSTALL_RPATH "$ORIGIN/../..")
  target_link_libraries(${target} PRIVATE flyte_plugin_api ${P_LIBS})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
endfunction()
