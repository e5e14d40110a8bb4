include(CMakeFindDependencyMacro)
find_dependency(rship CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/rsrandTargets.cmake")
