# cmake -DFLYTEADMIN=<binary> -DCONFIG=<file> -P same_config_print.cmake: fails unless
# `flyteadmin --config CONFIG config print` equals `flyteadmin config print` (the embedded
# default), i.e. CONFIG spells out exactly the configuration used without --config.
execute_process(COMMAND ${FLYTEADMIN} config print OUTPUT_VARIABLE embedded RESULT_VARIABLE rc1)
execute_process(COMMAND ${FLYTEADMIN} --config ${CONFIG} config print OUTPUT_VARIABLE spelled RESULT_VARIABLE rc2)
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0)
  message(FATAL_ERROR "flyteadmin config print failed (${rc1}, ${rc2})")
endif()
if(NOT embedded STREQUAL spelled)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/embedded.json "${embedded}")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/spelled.json "${spelled}")
  message(FATAL_ERROR "${CONFIG} differs from the embedded default configuration: compare "
          "${CMAKE_CURRENT_BINARY_DIR}/embedded.json and spelled.json")
endif()
