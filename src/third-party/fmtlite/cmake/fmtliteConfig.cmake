include("${CMAKE_CURRENT_LIST_DIR}/fmtliteTargets.cmake")
