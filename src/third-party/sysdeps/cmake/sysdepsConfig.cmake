include("${CMAKE_CURRENT_LIST_DIR}/sysdepsTargets.cmake")
