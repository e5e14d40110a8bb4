# GPU families and gfx targets.
#
#   ROCKSHARD_AMDGPU_FAMILIES        families to build per-arch artifacts for (a ; or , list)
#   ROCKSHARD_DIST_AMDGPU_FAMILIES   families of the whole product (default: the above); the
#                                    pipeline passes every family here to every stage job
#   ROCKSHARD_AMDGPU_DIST_BUNDLE_NAME  the <target> of target-specific artifact names; default:
#                                    the family when there is one (required for several)
#
# ROCKSHARD_AMDGPU_TARGETS (a normal variable) is the families expanded to gfx targets through
# action_lib.families, de-duplicated in first-seen order.
set(ROCKSHARD_AMDGPU_FAMILIES "" CACHE STRING "GPU families to build per-arch artifacts for")
set(ROCKSHARD_DIST_AMDGPU_FAMILIES "" CACHE STRING "GPU families of the whole product (default: ROCKSHARD_AMDGPU_FAMILIES)")
set(ROCKSHARD_AMDGPU_DIST_BUNDLE_NAME "" CACHE STRING "Target name of target-specific artifacts (default: the single family)")

# rockshard_expand_amdgpu_families(<out-var> <family>...)
function(rockshard_expand_amdgpu_families out_var)
  if(NOT ARGN)
    set(${out_var} "" PARENT_SCOPE)
    return()
  endif()
  # (no semicolon in the script: CMake would split the argument there)
  rockshard_run_python(_targets -c [=[
import sys
from action_lib.errors import RockshardError
from action_lib.families import expand_families
from action_lib.inputs.lists import parse_list
try:
    print(chr(59).join(expand_families(parse_list(sys.argv[1:]))))
except RockshardError as exc:
    sys.exit(f"rockshard: {exc}")
]=] ${ARGN})
  set(${out_var} "${_targets}" PARENT_SCOPE)
endfunction()

string(REPLACE "," ";" ROCKSHARD_AMDGPU_FAMILIES_LIST "${ROCKSHARD_AMDGPU_FAMILIES}")
list(REMOVE_ITEM ROCKSHARD_AMDGPU_FAMILIES_LIST "")
rockshard_expand_amdgpu_families(ROCKSHARD_AMDGPU_TARGETS ${ROCKSHARD_AMDGPU_FAMILIES_LIST})
if(ROCKSHARD_DIST_AMDGPU_FAMILIES)
  string(REPLACE "," ";" ROCKSHARD_DIST_AMDGPU_FAMILIES_LIST "${ROCKSHARD_DIST_AMDGPU_FAMILIES}")
else()
  set(ROCKSHARD_DIST_AMDGPU_FAMILIES_LIST ${ROCKSHARD_AMDGPU_FAMILIES_LIST})
endif()

set(ROCKSHARD_AMDGPU_BUNDLE "${ROCKSHARD_AMDGPU_DIST_BUNDLE_NAME}")
list(LENGTH ROCKSHARD_AMDGPU_FAMILIES_LIST _count)
if(NOT ROCKSHARD_AMDGPU_BUNDLE AND _count EQUAL 1)
  set(ROCKSHARD_AMDGPU_BUNDLE "${ROCKSHARD_AMDGPU_FAMILIES_LIST}")
endif()
unset(_count)
string(REPLACE ";" " " _rockshard_targets "${ROCKSHARD_AMDGPU_TARGETS}")
message(STATUS "rockshard GPU families: ${ROCKSHARD_AMDGPU_FAMILIES_LIST} -> targets: ${_rockshard_targets}")
unset(_rockshard_targets)
