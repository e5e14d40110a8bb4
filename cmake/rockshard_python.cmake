# ROCKSHARD_PYTHON: the interpreter that runs rockshard (`python -m action_lib ...`) at
# configure time (GPU families, topology check) and build time (artifact population).
# Default: the first Python 3.10+ found (an active virtual environment first).
if(NOT ROCKSHARD_PYTHON)
  set(Python3_FIND_VIRTUALENV FIRST)
  find_package(Python3 3.10 COMPONENTS Interpreter)
  if(NOT Python3_Interpreter_FOUND)
    message(FATAL_ERROR "rockshard: no Python 3.10+ found; set -DROCKSHARD_PYTHON=<python>")
  endif()
  set(ROCKSHARD_PYTHON "${Python3_EXECUTABLE}" CACHE FILEPATH
    "Python interpreter that runs rockshard (python -m action_lib)")
endif()

# The rockshard sources of this checkout come first on PYTHONPATH, so that an interpreter
# without rockshard installed still finds action_lib (it needs rockshard's dependencies).
set(ROCKSHARD_PYTHON_COMMAND
  "${CMAKE_COMMAND}" -E env "--modify" "PYTHONPATH=path_list_prepend:${CMAKE_SOURCE_DIR}"
  "${ROCKSHARD_PYTHON}")

# rockshard_run_python(<out-var> <args>...): run ROCKSHARD_PYTHON at configure time; its
# standard output (stripped) goes to <out-var>; a failure is fatal and quotes its stderr.
function(rockshard_run_python out_var)
  execute_process(
    COMMAND ${ROCKSHARD_PYTHON_COMMAND} ${ARGN}
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
    OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${_err}\n${_out}\n(${ROCKSHARD_PYTHON} ${ARGN}: exit status ${_rc})")
  endif()
  set(${out_var} "${_out}" PARENT_SCOPE)
endfunction()

# Fail when cmake/rockshard_topology.cmake does not match BUILD_TOPOLOGY.toml.
option(ROCKSHARD_CHECK_TOPOLOGY "Check at configure time that the generated topology include is current" ON)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  "${CMAKE_SOURCE_DIR}/BUILD_TOPOLOGY.toml" "${CMAKE_SOURCE_DIR}/cmake/rockshard_topology.cmake")
if(ROCKSHARD_CHECK_TOPOLOGY)
  rockshard_run_python(_rockshard_check -m action_lib cmake --topology BUILD_TOPOLOGY.toml
    --dialect rockshard --output cmake/rockshard_topology.cmake --check)
  unset(_rockshard_check)
endif()
