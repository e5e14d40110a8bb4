# Artifacts: the packaging units of the topology, each declared from a descriptor TOML
# (TheRock's format) and populated from the stage dirs of its subprojects by
# `python -m action_lib artifacts populate` into <build>/artifacts/<name>_<component>_<target>/.
#
#   artifact-<name>  populate one artifact (after building its subprojects)
#   artifacts        every artifact this build produces
#   stage-<stage>    every artifact of a build stage of the topology (what a pipeline job builds)
#
# <target> is "generic" for a target-neutral artifact; for a target-specific one it is
# ROCKSHARD_AMDGPU_DIST_BUNDLE_NAME, by default the single GPU family being built: files under a
# path component naming one of its gfx targets go to _<family>, the rest to _generic.
# An artifact whose subprojects are all prebuilt is not populated again.

# rockshard_artifact(<name> DESCRIPTOR <file> [SUBPROJECTS <subproject>...])
#
# DESCRIPTOR is relative to the super-build's source dir; SUBPROJECTS defaults to the
# subprojects declared with ARTIFACT <name>. Fails configuration for an artifact the topology
# does not define.
function(rockshard_artifact name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "DESCRIPTOR" "SUBPROJECTS")
  rockshard_require_artifact("rockshard_artifact(${name})" "${name}")
  if(NOT ARG_DESCRIPTOR)
    message(FATAL_ERROR "rockshard_artifact(${name}): DESCRIPTOR is required")
  endif()
  get_property(_declared GLOBAL PROPERTY ROCKSHARD_DECLARED_ARTIFACTS)
  if(name IN_LIST _declared)
    message(FATAL_ERROR "rockshard_artifact(${name}): declared twice")
  endif()
  set_property(GLOBAL APPEND PROPERTY ROCKSHARD_DECLARED_ARTIFACTS "${name}")
  set_property(GLOBAL PROPERTY ROCKSHARD_ARTIFACT_${name}_DESCRIPTOR "${ARG_DESCRIPTOR}")
  set_property(GLOBAL PROPERTY ROCKSHARD_ARTIFACT_${name}_SUBPROJECTS "${ARG_SUBPROJECTS}")
endfunction()

function(rockshard_finalize_artifacts)
  get_property(_declared GLOBAL PROPERTY ROCKSHARD_DECLARED_ARTIFACTS)
  get_property(_subprojects GLOBAL PROPERTY ROCKSHARD_SUBPROJECTS)
  foreach(_name IN LISTS _subprojects)
    get_property(_artifact GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${_name}_ARTIFACT)
    list(APPEND _subprojects_of_${_artifact} "${_name}")
  endforeach()

  add_custom_target(artifacts)
  set(_produced "")
  foreach(_artifact IN LISTS ROCKSHARD_TOPOLOGY_ARTIFACTS)
    rockshard_artifact_enabled("${_artifact}" _enabled)
    if(NOT _enabled)
      continue()
    endif()
    if(NOT _artifact IN_LIST _declared)
      message(FATAL_ERROR "artifact ${_artifact} is enabled but no rockshard_artifact(${_artifact} "
        "DESCRIPTOR ...) declares it")
    endif()
    get_property(_subs GLOBAL PROPERTY ROCKSHARD_ARTIFACT_${_artifact}_SUBPROJECTS)
    if(NOT _subs)
      set(_subs ${_subprojects_of_${_artifact}})
    endif()
    if(NOT _subs)
      message(FATAL_ERROR "artifact ${_artifact} is enabled but has no subproject")
    endif()
    set(_all_prebuilt TRUE)
    foreach(_sub IN LISTS _subs)
      if(NOT _sub IN_LIST _subprojects)
        message(FATAL_ERROR "rockshard_artifact(${_artifact}): unknown or disabled subproject '${_sub}'")
      endif()
      get_property(_prebuilt GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${_sub}_PREBUILT)
      if(NOT _prebuilt)
        set(_all_prebuilt FALSE)
      endif()
    endforeach()
    if(_all_prebuilt)
      continue()
    endif()

    get_property(_descriptor GLOBAL PROPERTY ROCKSHARD_ARTIFACT_${_artifact}_DESCRIPTOR)
    set(_descriptor "${CMAKE_SOURCE_DIR}/${_descriptor}")
    if(NOT EXISTS "${_descriptor}")
      message(FATAL_ERROR "artifact ${_artifact}: descriptor ${_descriptor} does not exist")
    endif()
    set(_args
      --descriptor "${_descriptor}" --root-dir "${CMAKE_BINARY_DIR}" --name "${_artifact}"
      --output-dir "${CMAKE_BINARY_DIR}/artifacts")
    set(_command ${ROCKSHARD_PYTHON_COMMAND} -m action_lib artifacts populate ${_args})
    if(ROCKSHARD_ARTIFACT_${_artifact}_TYPE STREQUAL "target-specific")
      string(REPLACE ";" "$<SEMICOLON>" _targets "${ROCKSHARD_AMDGPU_TARGETS}")
      list(APPEND _command --target "${ROCKSHARD_AMDGPU_BUNDLE}" "--amdgpu-targets=${_targets}")
      if(NOT ROCKSHARD_AMDGPU_BUNDLE)
        # Several families and no bundle name: the artifact cannot be named. Configuring stays
        # possible (a monolithic multi-family build needs no artifacts); populating fails.
        set(_command "${CMAKE_COMMAND}" -E echo
          "rockshard: artifact ${_artifact} is target-specific and several GPU families are built: set -DROCKSHARD_AMDGPU_DIST_BUNDLE_NAME=<name>"
          COMMAND "${CMAKE_COMMAND}" -E false)
      endif()
    else()
      list(APPEND _command --target generic)
    endif()
    add_custom_target("artifact-${_artifact}"
      COMMAND ${_command}
      WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
      COMMENT "Populating artifact ${_artifact}"
      VERBATIM)
    add_dependencies("artifact-${_artifact}" ${_subs})
    add_dependencies(artifacts "artifact-${_artifact}")
    list(APPEND _produced "${_artifact}")
  endforeach()

  foreach(_stage IN LISTS ROCKSHARD_STAGES)
    set(_builds "")
    foreach(_artifact IN LISTS ROCKSHARD_STAGE_${_stage}_ARTIFACTS)
      if(_artifact IN_LIST _produced)
        list(APPEND _builds "artifact-${_artifact}")
      endif()
    endforeach()
    if(_builds)
      string(REPLACE ";artifact-" " " _names ";${_builds}")
      string(STRIP "${_names}" _names)
      add_custom_target("stage-${_stage}"
        COMMENT "Stage ${_stage} (${ROCKSHARD_STAGE_${_stage}_TYPE}): ${_names}")
      add_dependencies("stage-${_stage}" ${_builds})
    else()
      add_custom_target("stage-${_stage}"
        COMMENT "Stage ${_stage}: nothing to build here (disabled or prebuilt)")
    endif()
  endforeach()
  string(REPLACE ";" " " _list "${_produced}")
  message(STATUS "rockshard artifacts produced by this build: ${_list}")
endfunction()
