# Subprojects: each a CMake project of its own, configured, built and installed by the
# super-build into <build>/<BUILD_DIR>/stage, with the stage dirs of its dependencies on
# CMAKE_PREFIX_PATH.
#
#   <build>/<BUILD_DIR>/build           the subproject's own build tree
#   <build>/<BUILD_DIR>/stage           its install prefix (what artifacts are made of)
#   <build>/<BUILD_DIR>/stamp           init cache and stamps
#   <build>/<BUILD_DIR>/stage.prebuilt  marker: stage/ came from elsewhere (an artifact fetch);
#                                       the subproject is then neither configured nor built and
#                                       its source directory is never read
#
# A subproject whose artifact is disabled is dropped at declaration: its sources are never read.
#
# Targets: <name>+configure (configure once, again when its arguments change), <name> (build
# and install, part of ALL), and dist (ALL): <build>/dist assembled from every stage dir.

set(ROCKSHARD_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type of every subproject" FORCE)
endif()
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_OBJCOPY AND CMAKE_READELF)
  set(_rockshard_split_default ON)
else()
  set(_rockshard_split_default OFF)
endif()
option(ROCKSHARD_SPLIT_DEBUG
  "Move debug information of staged ELF files into <stage>/.build-id/ (the dbg component)"
  ${_rockshard_split_default})
unset(_rockshard_split_default)

# Reproducible binaries: two builds of the same sources, in different directories and at
# different times, on different runners, must produce the same bytes (the per-arch jobs of a
# pipeline each build the generic half of their stage, and the store accepts one content only).
#   - build paths: mapped to fixed names (source and build dir) for every supported compiler;
#   - PE/COFF timestamps and GUIDs (Windows DLLs and EXEs): GNU ld and lld in MinGW mode
#     --no-insert-timestamp; MSVC link and lld-link /Brepro (content hashes instead);
#   - the PDB path in a DLL: /PDBALTPATH:%_PDB% (its file name only);
#   - SOURCE_DATE_EPOCH, set by the pipeline, for __DATE__ and __TIME__ (GCC and Clang honour it).
# ROCKSHARD_REPRODUCIBLE_FLAGS go to the compilers, ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS to the
# linkers of shared libraries, modules and executables, ROCKSHARD_REPRODUCIBLE_ARCHIVER_FLAGS to
# the static-library tool; the super-build passes them to every subproject.
set(ROCKSHARD_REPRODUCIBLE_FLAGS "")
set(ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS "")
set(ROCKSHARD_REPRODUCIBLE_ARCHIVER_FLAGS "")
set(_rockshard_maps "${CMAKE_SOURCE_DIR}=/rockshard/source" "${CMAKE_BINARY_DIR}=/rockshard/build")
if(CMAKE_C_COMPILER_ID STREQUAL "MSVC")
  # cl.exe and link.exe (Visual Studio 2019 16.10 and later)
  string(APPEND ROCKSHARD_REPRODUCIBLE_FLAGS " /Brepro /experimental:deterministic")
  foreach(_map IN LISTS _rockshard_maps)
    string(REPLACE "/rockshard/" "X:\\rockshard\\" _map "${_map}")
    file(TO_NATIVE_PATH "${_map}" _map)
    string(APPEND ROCKSHARD_REPRODUCIBLE_FLAGS " /pathmap:${_map}")
  endforeach()
  string(APPEND ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS " /Brepro /PDBALTPATH:%_PDB%")
  string(APPEND ROCKSHARD_REPRODUCIBLE_ARCHIVER_FLAGS " /Brepro")
elseif(CMAKE_C_COMPILER_ID MATCHES "Clang" AND CMAKE_C_COMPILER_FRONTEND_VARIANT STREQUAL "MSVC")
  # clang-cl with lld-link (or link.exe): /Brepro, and GNU-style maps through /clang:
  string(APPEND ROCKSHARD_REPRODUCIBLE_FLAGS " /Brepro -no-canonical-prefixes")
  foreach(_map IN LISTS _rockshard_maps)
    string(APPEND ROCKSHARD_REPRODUCIBLE_FLAGS " /clang:-ffile-prefix-map=${_map}")
  endforeach()
  string(APPEND ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS " /Brepro /PDBALTPATH:%_PDB%")
  string(APPEND ROCKSHARD_REPRODUCIBLE_ARCHIVER_FLAGS " /Brepro")
elseif(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  # GCC and Clang for Linux, and for Windows with mingw-w64 (GNU ld or lld in MinGW mode)
  foreach(_map IN LISTS _rockshard_maps)
    string(APPEND ROCKSHARD_REPRODUCIBLE_FLAGS " -ffile-prefix-map=${_map} -fdebug-prefix-map=${_map}")
  endforeach()
  if(WIN32)
    if(CMAKE_C_SIMULATE_ID STREQUAL "MSVC")  # clang (GNU driver) targeting the MSVC ABI
      string(APPEND ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS " -Wl,/Brepro -Wl,/PDBALTPATH:%_PDB%")
    else()
      string(APPEND ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS " -Wl,--no-insert-timestamp")
    endif()
  endif()
else()
  message(WARNING "rockshard: no reproducibility flags known for the ${CMAKE_C_COMPILER_ID} "
    "compiler; binaries may differ between build directories")
endif()
foreach(_var ROCKSHARD_REPRODUCIBLE_FLAGS ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS
    ROCKSHARD_REPRODUCIBLE_ARCHIVER_FLAGS)
  string(STRIP "${${_var}}" ${_var})
endforeach()
unset(_map)
unset(_rockshard_maps)

# rockshard_subproject(<name> ARTIFACT <artifact> SOURCE_DIR <dir> [BUILD_DIR <dir>]
#                      [DEPS <subproject>...] [CMAKE_ARGS <-DVAR=value>...])
#
# SOURCE_DIR is relative to the super-build's source dir; BUILD_DIR (relative to the build dir)
# defaults to SOURCE_DIR without its leading "src/". The subproject depends on the subprojects
# of its artifact's artifact_deps (from the topology) and on DEPS.
function(rockshard_subproject name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "ARTIFACT;SOURCE_DIR;BUILD_DIR" "DEPS;CMAKE_ARGS")
  if(NOT ARG_ARTIFACT OR NOT ARG_SOURCE_DIR)
    message(FATAL_ERROR "rockshard_subproject(${name}): ARTIFACT and SOURCE_DIR are required")
  endif()
  rockshard_require_artifact("rockshard_subproject(${name})" "${ARG_ARTIFACT}")
  get_property(_all GLOBAL PROPERTY ROCKSHARD_ALL_SUBPROJECTS)
  if(name IN_LIST _all)
    message(FATAL_ERROR "rockshard_subproject(${name}): declared twice")
  endif()
  set_property(GLOBAL APPEND PROPERTY ROCKSHARD_ALL_SUBPROJECTS "${name}")
  rockshard_artifact_enabled("${ARG_ARTIFACT}" _enabled)
  if(NOT _enabled)
    return()
  endif()
  if(NOT ARG_BUILD_DIR)
    string(REGEX REPLACE "^src/" "" ARG_BUILD_DIR "${ARG_SOURCE_DIR}")
  endif()
  set(_prebuilt FALSE)
  if(EXISTS "${CMAKE_BINARY_DIR}/${ARG_BUILD_DIR}/stage.prebuilt")
    set(_prebuilt TRUE)
  endif()
  set_property(GLOBAL APPEND PROPERTY ROCKSHARD_SUBPROJECTS "${name}")
  foreach(_key ARTIFACT SOURCE_DIR BUILD_DIR DEPS CMAKE_ARGS)
    set_property(GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${name}_${_key} "${ARG_${_key}}")
  endforeach()
  set_property(GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${name}_PREBUILT "${_prebuilt}")
endfunction()

# rockshard_subproject_stage_dir(<name> <out-var>): <build>/<BUILD_DIR>/stage
function(rockshard_subproject_stage_dir name out_var)
  get_property(_dir GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${name}_BUILD_DIR)
  set(${out_var} "${CMAKE_BINARY_DIR}/${_dir}/stage" PARENT_SCOPE)
endfunction()

function(_rockshard_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" _old)
    if(_old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

function(_rockshard_cache_line out_var variable type value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  string(REPLACE "$" "\\$" value "${value}")
  set(${out_var} "set(${variable} \"${value}\" CACHE ${type} \"\" FORCE)\n" PARENT_SCOPE)
endfunction()

# The init cache (-C) of subproject <name>: everything the super-build decides for it.
function(_rockshard_init_cache name prefix_path target_specific out_var)
  rockshard_subproject_stage_dir("${name}" _stage)
  set(_c "# Generated by the rockshard super-build for subproject ${name}: do not edit.\n")
  set(_entries
    "CMAKE_BUILD_TYPE|STRING|${CMAKE_BUILD_TYPE}"
    "CMAKE_INSTALL_PREFIX|PATH|${_stage}"
    "CMAKE_INSTALL_LIBDIR|STRING|lib"
    "CMAKE_INSTALL_MESSAGE|STRING|LAZY"
    "CMAKE_INSTALL_RPATH|STRING|$ORIGIN/../lib"
    "CMAKE_BUILD_WITH_INSTALL_RPATH|BOOL|ON"
    "CMAKE_POSITION_INDEPENDENT_CODE|BOOL|ON"
    "CMAKE_WINDOWS_EXPORT_ALL_SYMBOLS|BOOL|ON"
    "CMAKE_FIND_PACKAGE_PREFER_CONFIG|BOOL|ON"
    "CMAKE_FIND_USE_PACKAGE_REGISTRY|BOOL|OFF"
    "CMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY|BOOL|OFF"
    "CMAKE_EXPORT_NO_PACKAGE_REGISTRY|BOOL|ON"
    "CMAKE_MAKE_PROGRAM|FILEPATH|${CMAKE_MAKE_PROGRAM}"
    "CMAKE_C_COMPILER|FILEPATH|${CMAKE_C_COMPILER}"
    "CMAKE_CXX_COMPILER|FILEPATH|${CMAKE_CXX_COMPILER}"
    "CMAKE_C_FLAGS|STRING|${CMAKE_C_FLAGS} ${ROCKSHARD_REPRODUCIBLE_FLAGS}"
    "CMAKE_CXX_FLAGS|STRING|${CMAKE_CXX_FLAGS} ${ROCKSHARD_REPRODUCIBLE_FLAGS}"
    "CMAKE_SHARED_LINKER_FLAGS|STRING|${CMAKE_SHARED_LINKER_FLAGS} ${ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS}"
    "CMAKE_MODULE_LINKER_FLAGS|STRING|${CMAKE_MODULE_LINKER_FLAGS} ${ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS}"
    "CMAKE_EXE_LINKER_FLAGS|STRING|${CMAKE_EXE_LINKER_FLAGS} ${ROCKSHARD_REPRODUCIBLE_LINKER_FLAGS}"
    "CMAKE_STATIC_LINKER_FLAGS|STRING|${CMAKE_STATIC_LINKER_FLAGS} ${ROCKSHARD_REPRODUCIBLE_ARCHIVER_FLAGS}")
  # A cross build (or a pinned toolchain) reaches every subproject through its toolchain file.
  foreach(_var CMAKE_C_COMPILER_LAUNCHER CMAKE_CXX_COMPILER_LAUNCHER CMAKE_TOOLCHAIN_FILE
      CMAKE_MSVC_DEBUG_INFORMATION_FORMAT)
    if(${_var})
      list(APPEND _entries "${_var}|STRING|${${_var}}")
    endif()
  endforeach()
  foreach(_entry IN LISTS _entries)
    string(REPLACE "|" ";" _parts "${_entry}")
    list(GET _parts 0 _var)
    list(GET _parts 1 _type)
    string(REGEX REPLACE "^[^|]*\\|[^|]*\\|" "" _value "${_entry}")
    string(STRIP "${_value}" _value)
    _rockshard_cache_line(_line "${_var}" "${_type}" "${_value}")
    string(APPEND _c "${_line}")
  endforeach()
  # Lists: written from the variables themselves so that their ';' survive.
  _rockshard_cache_line(_line CMAKE_PREFIX_PATH STRING "${prefix_path}")
  string(APPEND _c "${_line}")
  if(target_specific)
    _rockshard_cache_line(_line ROCKSHARD_AMDGPU_TARGETS STRING "${ROCKSHARD_AMDGPU_TARGETS}")
    string(APPEND _c "${_line}")
  endif()
  set(${out_var} "${_c}" PARENT_SCOPE)
endfunction()

function(rockshard_finalize_subprojects)
  get_property(_subprojects GLOBAL PROPERTY ROCKSHARD_SUBPROJECTS)
  get_property(_all GLOBAL PROPERTY ROCKSHARD_ALL_SUBPROJECTS)
  set(_seen "")
  set(_stage_dirs "")
  set(_built_targets "")
  foreach(_name IN LISTS _subprojects)
    get_property(_artifact GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${_name}_ARTIFACT)
    list(APPEND _subprojects_of_${_artifact} "${_name}")
  endforeach()

  foreach(_name IN LISTS _subprojects)
    foreach(_key ARTIFACT SOURCE_DIR BUILD_DIR DEPS CMAKE_ARGS PREBUILT)
      get_property(_${_key} GLOBAL PROPERTY ROCKSHARD_SUBPROJECT_${_name}_${_key})
    endforeach()
    rockshard_subproject_stage_dir("${_name}" _stage)
    set(_root "${CMAKE_BINARY_DIR}/${_BUILD_DIR}")

    # Dependencies: the subprojects of the artifact's artifact_deps, then DEPS.
    set(_deps "")
    foreach(_dep_artifact IN LISTS ROCKSHARD_ARTIFACT_${_ARTIFACT}_DEPS)
      list(APPEND _deps ${_subprojects_of_${_dep_artifact}})
    endforeach()
    foreach(_dep IN LISTS _DEPS)
      if(NOT _dep IN_LIST _all)
        message(FATAL_ERROR "rockshard_subproject(${_name}): unknown dependency '${_dep}'")
      endif()
      if(_dep IN_LIST _subprojects)  # a disabled dependency is left out
        list(APPEND _deps "${_dep}")
      endif()
    endforeach()
    list(REMOVE_ITEM _deps "${_name}")
    set(_closure "")
    foreach(_dep IN LISTS _deps)
      if(NOT _dep IN_LIST _seen)
        message(FATAL_ERROR
          "rockshard_subproject(${_name}): declare its dependency '${_dep}' before it")
      endif()
      list(APPEND _closure ${_closure_${_dep}} "${_dep}")
    endforeach()
    list(REMOVE_DUPLICATES _closure)
    set(_closure_${_name} ${_closure})
    list(APPEND _seen "${_name}")
    list(APPEND _stage_dirs "${_BUILD_DIR}/stage")

    if(_PREBUILT)
      if(NOT IS_DIRECTORY "${_stage}")
        message(FATAL_ERROR "subproject ${_name}: ${_BUILD_DIR}/stage.prebuilt exists but "
          "${_BUILD_DIR}/stage does not")
      endif()
      message(STATUS "rockshard subproject ${_name} (artifact ${_ARTIFACT}): prebuilt (${_BUILD_DIR}/stage.prebuilt)")
      add_custom_target("${_name}")
      continue()
    endif()

    set(_source "${CMAKE_SOURCE_DIR}/${_SOURCE_DIR}")
    if(NOT EXISTS "${_source}/CMakeLists.txt")
      message(FATAL_ERROR "subproject ${_name}: no sources at ${_SOURCE_DIR} (not checked out?) "
        "and no ${_BUILD_DIR}/stage.prebuilt marker (artifact ${_ARTIFACT} not fetched?)")
    endif()
    set(_prefix_path "")
    foreach(_dep IN LISTS _closure)
      rockshard_subproject_stage_dir("${_dep}" _dep_stage)
      list(APPEND _prefix_path "${_dep_stage}")
    endforeach()
    set(_target_specific FALSE)
    if(ROCKSHARD_ARTIFACT_${_ARTIFACT}_TYPE STREQUAL "target-specific")
      set(_target_specific TRUE)
      if(NOT ROCKSHARD_AMDGPU_TARGETS)
        message(FATAL_ERROR "subproject ${_name} (artifact ${_ARTIFACT}) is target-specific: "
          "set ROCKSHARD_AMDGPU_FAMILIES (e.g. -DROCKSHARD_AMDGPU_FAMILIES=gfx110X-all)")
      endif()
    endif()
    _rockshard_init_cache("${_name}" "${_prefix_path}" ${_target_specific} _init)
    file(MAKE_DIRECTORY "${_root}/stamp")
    _rockshard_write_if_changed("${_root}/stamp/init-cache.cmake" "${_init}")

    add_custom_command(
      OUTPUT "${_root}/stamp/configure.stamp"
      COMMAND "${CMAKE_COMMAND}" -G "${CMAKE_GENERATOR}" -C "${_root}/stamp/init-cache.cmake"
        ${_CMAKE_ARGS} -S "${_source}" -B "${_root}/build"
      COMMAND "${CMAKE_COMMAND}" -E touch "${_root}/stamp/configure.stamp"
      DEPENDS "${_root}/stamp/init-cache.cmake"
      COMMENT "Configuring subproject ${_name}"
      VERBATIM)
    add_custom_target("${_name}+configure" DEPENDS "${_root}/stamp/configure.stamp")

    set(_split "")
    if(ROCKSHARD_SPLIT_DEBUG)
      set(_split COMMAND "${CMAKE_COMMAND}" "-DSTAGE_DIR=${_stage}" "-DOBJCOPY=${CMAKE_OBJCOPY}"
        "-DREADELF=${CMAKE_READELF}" -P "${ROCKSHARD_CMAKE_DIR}/scripts/split_debug.cmake")
    endif()
    add_custom_target("${_name}" ALL
      COMMAND "${CMAKE_COMMAND}" --build "${_root}/build"
      COMMAND "${CMAKE_COMMAND}" --install "${_root}/build"
      ${_split}
      COMMAND "${CMAKE_COMMAND}" -E touch "${_root}/stamp/stage.stamp"
      WORKING_DIRECTORY "${_root}/build"
      COMMENT "Building subproject ${_name}"
      VERBATIM)
    if(_deps)
      add_dependencies("${_name}+configure" ${_deps})
    endif()
    add_dependencies("${_name}" "${_name}+configure" ${_deps})
    list(APPEND _built_targets "${_name}")
    message(STATUS "rockshard subproject ${_name} (artifact ${_ARTIFACT}): build from ${_SOURCE_DIR}")
  endforeach()

  # dist: every stage dir (built or prebuilt) merged into <build>/dist.
  string(REPLACE ";" "\n" _lines "${_stage_dirs}")
  _rockshard_write_if_changed("${CMAKE_BINARY_DIR}/dist-stages.txt" "${_lines}\n")
  # The same code assembles a pipeline's product from its artifacts (rockshard pipeline
  # assemble), so the two trees can be compared file for file.
  add_custom_target(dist ALL
    COMMAND ${ROCKSHARD_PYTHON_COMMAND} -m action_lib artifacts dist
      --root-dir "${CMAKE_BINARY_DIR}" --stage-dirs-file "${CMAKE_BINARY_DIR}/dist-stages.txt"
      --output "${CMAKE_BINARY_DIR}/dist"
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
    COMMENT "Assembling dist/ from the stage directories"
    VERBATIM)
  if(_subprojects)
    add_dependencies(dist ${_subprojects})
  endif()
  set_property(GLOBAL PROPERTY ROCKSHARD_BUILT_SUBPROJECTS "${_built_targets}")
endfunction()
