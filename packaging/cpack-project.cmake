# CPACK_PROJECT_CONFIG_FILE: read by cpack for each generator. A Debian package installs under
# /usr; from a build configured for another prefix (build/: /usr/local) it would be wrong.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "the Debian package needs the prefix /usr, this build has "
          "${CPACK_INSTALL_PREFIX}: use scripts/package.sh (build-deb/, -DCMAKE_INSTALL_PREFIX=/usr)")
endif()
