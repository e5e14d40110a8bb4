include("${CMAKE_CURRENT_LIST_DIR}/rsbaseTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/rsbaseHelpers.cmake")
