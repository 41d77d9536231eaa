# flyte_add_plugin(<name> SOURCES <file>... [LIBS <target>...] [NO_INSTALL]) for plugins built
# out of tree against the installed SDK (find_package(FlyteadminPlugin)). The in-tree
# counterpart is cmake/FlytePlugin.cmake; both build lib<name>.so as STYLE.md requires:
# C++20, hidden visibility, no undefined symbols, the system's shared libraries only (the
# generated flyteidl code comes from flyteadmin::flyteidl_proto, never compiled again), and
# installed into <prefix>/lib/flyteadmin/plugins, where the server finds plugins by name.
include_guard(GLOBAL)

set(FLYTEADMIN_PLUGIN_INSTALL_DIR lib/flyteadmin/plugins CACHE STRING
    "Where flyte_add_plugin installs plugins, relative to CMAKE_INSTALL_PREFIX")

function(flyte_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "" "SOURCES;LIBS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "flyte_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL FlyteadminPlugin_CXX_COMPILER_ID OR
     NOT CMAKE_CXX_COMPILER_VERSION VERSION_EQUAL FlyteadminPlugin_CXX_COMPILER_VERSION)
    message(WARNING "flyte_add_plugin(${name}): the SDK was built with "
            "${FlyteadminPlugin_CXX_COMPILER_ID} ${FlyteadminPlugin_CXX_COMPILER_VERSION}, this "
            "project uses ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}; the server "
            "refuses plugins whose build fingerprint (compiler included) differs from its own")
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib" OUTPUT_NAME ${name}
    CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    # Installed beside the SDK's plugins, or anywhere else with the SDK's lib/ still found.
    INSTALL_RPATH "$ORIGIN/../..;${FlyteadminPlugin_PREFIX}/lib")
  target_link_libraries(${name} PRIVATE flyteadmin::plugin_api spdlog::spdlog ${P_LIBS})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(NOT P_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${FLYTEADMIN_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
