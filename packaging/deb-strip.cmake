# CPACK_PRE_BUILD_SCRIPTS of the Debian package: the staged binary, already stripped by
# CPACK_STRIP_FILES, loses the .comment and .note sections too, as dh_strip does (lintian:
# binary-has-unneeded-section).
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/sbin/ringtun")
if(NOT staged)
  message(FATAL_ERROR "deb-strip: no sbin/ringtun under ${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
endif()
foreach(binary IN LISTS staged)
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note "${binary}"
                  COMMAND_ERROR_IS_FATAL ANY)
endforeach()
