# The Debian package: `cpack -G DEB` in a build configured with the prefix /usr
# (scripts/package.sh: Release, build-deb/). It holds what `cmake --install` installs, stripped,
# plus the lintian overrides (component deb, left out of `cmake --install`).
install(FILES packaging/debian/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME ringtun COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ringtun)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${RINGTUN_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WireGuard VPN daemon on one io_uring loop, with a TCP transport")
# CPack puts the summary first and indents the rest; an empty line is a paragraph break.
string(JOIN "\n" CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "ringtun implements the WireGuard protocol (Noise_IKpsk2, cookies, timers) in"
  "user space, so it interoperates with the kernel module, wireguard-go and any"
  "other WireGuard peer. For networks that block UDP it also carries the tunnel"
  "over TCP. The TUN device, the UDP and TCP sockets and the control socket are"
  "served by one io_uring loop, with TUN and UDP segmentation offloads."
  ""
  "wg and wg-quick drive it as they drive wireguard-go. A systemd template unit,"
  "ringtun@.service, runs the interface described by /etc/ringtun/NAME.toml.")
# A native package: the version is the project's, and its changelog is changelog.gz.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: computed by dpkg-shlibdeps from the binary (liburing2, libssl3, libnl-3-200, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst makes the unit's user with systemd-sysusers (what dh_installsysusers depends on).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers | systemd-sysusers")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS wireguard-tools)
# Maintainer scripts for the template unit (packaging/debian/): prerm stops the running
# instances on removal, postinst restarts them after an upgrade, postinst and postrm have
# systemd reread its units; none does anything unless systemd is the running init. Strict
# permissions: they are 0755 in the package (as in git) whatever the checkout's umask.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/deb-strip.cmake)
# Install into the staging directory through DESTDIR, with CMAKE_INSTALL_PREFIX the real
# prefix: the unit names /usr/sbin/ringtun and /etc/ringtun lands in the package, not here.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# The default component (Unspecified: everything `cmake --install` installs) and deb.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${PROJECT_BINARY_DIR};ringtun;Unspecified;/"
    "${PROJECT_BINARY_DIR};ringtun;deb;/")
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/packaging/cpack-project.cmake)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
