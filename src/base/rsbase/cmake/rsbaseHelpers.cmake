# Helpers every rockshard subproject may use once it found rsbase.

# rsbase_install_doc(<package> <file>...): install documentation as share/doc/<package>/.
function(rsbase_install_doc package)
  install(FILES ${ARGN} DESTINATION "share/doc/${package}")
endfunction()

# rsbase_install_package(<package> <config-file>): install the exported targets of
# <package>Targets and its config file as lib/cmake/<package>/.
function(rsbase_install_package package config)
  install(EXPORT "${package}Targets" NAMESPACE "${package}::" DESTINATION "lib/cmake/${package}")
  install(FILES "${config}" DESTINATION "lib/cmake/${package}")
endfunction()
