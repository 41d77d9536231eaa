# Installation and packaging. `cmake --install` lays out a prefix a vendor builds plugins
# against and runs the server from:
#   bin/flyteadmin                      the server (finds plugins in ../lib/flyteadmin/plugins)
#   lib/libflyte_plugin_api.so*, lib/libflyteidl_proto.so*
#   lib/flyteadmin/plugins/*.so         the default plugins
#   include/flyte/plugin/, include/flyteidl-cpp/   the plugin API and generated flyteidl headers
#   lib/cmake/FlyteadminPlugin/         find_package(FlyteadminPlugin): targets, flyte_add_plugin()
#   share/flyteadmin/flyteadmin.yaml    the packaged configuration (below)
#   share/doc/flyteadmin/               packaging.md, the example configs and plugins
# `cpack -G DEB` (or `make package`) adds what only the system package ships, in the component
# `system` that a plain `cmake --install` leaves out: /etc/flyteadmin/flyteadmin.yaml and the
# systemd unit.
include(CMakePackageConfigHelpers)

set(FLYTE_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/FlyteadminPlugin)
file(STRINGS ${PROJECT_SOURCE_DIR}/plugin-api/include/flyte/plugin/export.h _api_line
     REGEX "kPluginApiVersion = [0-9]+")
string(REGEX MATCH "[0-9]+" FLYTE_PLUGIN_API_VERSION "${_api_line}")

install(EXPORT FlyteadminTargets NAMESPACE flyteadmin:: DESTINATION ${FLYTE_CMAKE_PACKAGE_DIR}
        FILE FlyteadminPluginTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/FlyteadminPluginConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/FlyteadminPluginConfig.cmake
  INSTALL_DESTINATION ${FLYTE_CMAKE_PACKAGE_DIR}
  PATH_VARS CMAKE_INSTALL_PREFIX FLYTE_PLUGIN_INSTALL_DIR CMAKE_INSTALL_BINDIR)
# A plugin builds against the SDK of the server it is loaded into: 0.x releases differ by minor.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/FlyteadminPluginConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/FlyteadminPluginConfig.cmake
              ${CMAKE_BINARY_DIR}/cmake/FlyteadminPluginConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FlyteadminPluginFunctions.cmake
        DESTINATION ${FLYTE_CMAKE_PACKAGE_DIR})

install(FILES ${PROJECT_SOURCE_DIR}/packaging/flyteadmin.yaml DESTINATION ${CMAKE_INSTALL_DATADIR}/flyteadmin)
set(FLYTE_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/flyteadmin)
install(FILES ${PROJECT_SOURCE_DIR}/docs/packaging.md DESTINATION ${FLYTE_DOC_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${FLYTE_DOC_DIR}/examples)

# Only in the system package (absolute paths; never written by `cmake --install --prefix`).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/flyteadmin.yaml DESTINATION /etc/flyteadmin
        COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/flyteadmin.service DESTINATION /lib/systemd/system
        COMPONENT system EXCLUDE_FROM_ALL)

# The Debian package: everything above in one .deb, Depends derived from what the ELF files
# link (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_PACKAGE_NAME flyteadmin)
set(CPACK_PACKAGE_VENDOR "flyteadmin-cpp")
set(CPACK_PACKAGE_CONTACT "flyteadmin-cpp maintainers <flyteadmin-cpp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "FlyteAdmin-compatible control plane built as a plugin host, with its plugin SDK")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL Unspecified system)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Our own libraries are in the package: dpkg-shlibdeps resolves them there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    ${CMAKE_BINARY_DIR}/lib)
# Building plugins against the SDK needs the headers of what its targets link.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "cmake, g++, libgrpc++-dev, libprotobuf-dev, nlohmann-json3-dev, libspdlog-dev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/triggers
    ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
