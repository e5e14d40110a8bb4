include(CMakeFindDependencyMacro)
find_dependency(rship CONFIG)
find_dependency(fmtlite CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/cclTargets.cmake")
