# Cross-compiling the super-build for 64-bit Windows with mingw-w64 (Debian package mingw-w64):
#
#   cmake -S . -B build-win -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake -DROCKSHARD_PLATFORM=windows
#
# The super-build passes this file on to every subproject. Only stages whose build runs none of
# the programs it builds can be cross-compiled (foundation, compiler-runtime): the later
# stages run the kernel compiler (kcc.exe) at build time.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_rockshard_mingw x86_64-w64-mingw32)
# The POSIX threads flavour (std::thread, std::mutex), as MSYS2's mingw-w64 toolchains.
find_program(CMAKE_C_COMPILER NAMES ${_rockshard_mingw}-gcc-posix ${_rockshard_mingw}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${_rockshard_mingw}-g++-posix ${_rockshard_mingw}-g++ REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${_rockshard_mingw}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${_rockshard_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Libraries, headers and packages: the target's sysroot, and the stage dirs of the subprojects
# built before (CMAKE_PREFIX_PATH lies outside the sysroot).
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
unset(_rockshard_mingw)
