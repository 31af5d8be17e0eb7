# Install-time part of `cmake --install` (CMakeLists.txt sets RINGTUN_SRC, RINGTUN_BIN,
# RINGTUN_SBINDIR_REL and RINGTUN_SYSTEMD_UNIT_DIR before it): the systemd unit, naming the
# binary under the prefix in use, and the configuration directory /etc/ringtun (0700: it holds
# private keys). CMAKE_INSTALL_PREFIX is the install-time prefix (--prefix); file(INSTALL)
# honours DESTDIR.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(unit_dir "${RINGTUN_SYSTEMD_UNIT_DIR}")
  set(etc_dir "/etc")
else()
  set(unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  set(etc_dir "${CMAKE_INSTALL_PREFIX}/etc")
endif()
if(IS_ABSOLUTE "${RINGTUN_SBINDIR_REL}")
  set(RINGTUN_SBINDIR "${RINGTUN_SBINDIR_REL}")
else()
  set(RINGTUN_SBINDIR "${CMAKE_INSTALL_PREFIX}/${RINGTUN_SBINDIR_REL}")
endif()
configure_file("${RINGTUN_SRC}/systemd/ringtun@.service.in"
               "${RINGTUN_BIN}/packaging/unit/ringtun@.service" @ONLY)
file(INSTALL DESTINATION "${unit_dir}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${RINGTUN_BIN}/packaging/unit/ringtun@.service")
file(INSTALL DESTINATION "${etc_dir}" TYPE DIRECTORY
     DIR_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
     FILES "${RINGTUN_BIN}/packaging/etc/ringtun")
