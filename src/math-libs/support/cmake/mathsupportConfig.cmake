include("${CMAKE_CURRENT_LIST_DIR}/mathsupportTargets.cmake")
