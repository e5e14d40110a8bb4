# find_package(kcc): the kcc::kcc executable, the kcc::abi headers and kcc_add_kernels().
include(CMakeFindDependencyMacro)
find_dependency(sysdeps CONFIG)
find_dependency(rsbase CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/kccTargets.cmake")

# kcc_add_kernels(<module> SPEC <file.kdl> TARGETS <gfx>... [DESTINATION <dir>])
#
# Runs kcc at build time once per gfx target and builds each generated source into the code
# object <DESTINATION>/<target>/<module>.kco (default DESTINATION: lib/kernels), installed
# there. Code objects carry no debug information and no build paths.
function(kcc_add_kernels module)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SPEC;DESTINATION" "TARGETS")
  if(NOT ARG_SPEC)
    message(FATAL_ERROR "kcc_add_kernels(${module}): SPEC is required")
  endif()
  if(NOT ARG_TARGETS)
    message(FATAL_ERROR
      "kcc_add_kernels(${module}): no gfx TARGETS (the super-build passes ROCKSHARD_AMDGPU_TARGETS)")
  endif()
  if(NOT ARG_DESTINATION)
    set(ARG_DESTINATION lib/kernels)
  endif()
  get_filename_component(_spec "${ARG_SPEC}" ABSOLUTE)
  # kcc needs its shared libraries at build time, wherever their stage directories are.
  if(WIN32)
    set(_path_var PATH)
  else()
    set(_path_var LD_LIBRARY_PATH)
  endif()
  foreach(_target IN LISTS ARG_TARGETS)
    set(_dir "${CMAKE_CURRENT_BINARY_DIR}/kernels/${_target}")
    set(_source "${_dir}/${module}.c")
    add_custom_command(
      OUTPUT "${_source}"
      COMMAND "${CMAKE_COMMAND}" -E env
        "--modify" "${_path_var}=path_list_prepend:$<TARGET_FILE_DIR:sysdeps::sysdeps>"
        "--modify" "${_path_var}=path_list_prepend:$<TARGET_FILE_DIR:rsbase::rsbase>"
        "$<TARGET_FILE:kcc::kcc>" --target "${_target}" --module "${module}"
        -o "${_source}" "${_spec}"
      DEPENDS "${_spec}" "$<TARGET_FILE:kcc::kcc>"
      COMMENT "kcc: ${module} for ${_target}"
      VERBATIM)
    set(_lib "${module}-${_target}")
    add_library("${_lib}" MODULE "${_source}")
    target_link_libraries("${_lib}" PRIVATE kcc::abi)
    if(NOT MSVC)
      target_compile_options("${_lib}" PRIVATE -g0)
    endif()
    set_target_properties("${_lib}" PROPERTIES
      OUTPUT_NAME "${module}" PREFIX "" SUFFIX ".kco"
      LIBRARY_OUTPUT_DIRECTORY "${_dir}" RUNTIME_OUTPUT_DIRECTORY "${_dir}"
      C_VISIBILITY_PRESET hidden
      INSTALL_RPATH "")
    install(TARGETS "${_lib}"
      LIBRARY DESTINATION "${ARG_DESTINATION}/${_target}"
      RUNTIME DESTINATION "${ARG_DESTINATION}/${_target}")
  endforeach()
endfunction()
