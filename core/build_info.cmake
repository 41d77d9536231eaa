# Writes build_info.cc for the commit checked out now, and leaves it alone (so nothing rebuilds)
# while that commit, the version and the template stay the same. Run at configure time and
# before every build:
#   cmake -DSRC=<source dir> -DIN=<build_info.cc.in> -DOUT=<build_info.cc> -DPROJECT_VERSION=<v> -P
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE FLYTE_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT FLYTE_GIT_COMMIT)
  set(FLYTE_GIT_COMMIT unknown)
endif()
if(EXISTS ${OUT} AND NOT ${IN} IS_NEWER_THAN ${OUT})
  file(READ ${OUT} _old)
  string(FIND "${_old}" "{\"${PROJECT_VERSION}\", \"${FLYTE_GIT_COMMIT}\"," _at)
  if(_at GREATER -1)
    return()
  endif()
endif()
# The build time is when this commit was first built here, which keeps a rebuild of the same
# commit from recompiling and relinking everything that embeds it.
string(TIMESTAMP FLYTE_BUILD_TIME "%Y-%m-%dT%H:%M:%SZ" UTC)
configure_file(${IN} ${OUT} @ONLY)
