include(CMakeFindDependencyMacro)
find_dependency(rship CONFIG)
find_dependency(mathsupport CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/rsblasTargets.cmake")
