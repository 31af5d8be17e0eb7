// TunDevice: creating and adopting TUN fds, with errors that name the likely cause.
#include "tun/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace ringtun::tun {
namespace {

constexpr const char* kCloneDevice = "/dev/net/tun";

// 'TEXT', appended into one reserved string: GCC 12 at -O3 reports a false -Wrestrict for
// "'" + std::string(...) (operator+(const char*, string&&) inserts at the front).
std::string single_quoted(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '\'';
    out += text;
    out += '\'';
    return out;
}

util::Error open_error(int err) {
    std::string detail;
    if (err == ENOENT || err == ENODEV || err == ENXIO) {
        detail = "no TUN support: the tun kernel module is missing (try `modprobe tun`)";
    } else if (err == EACCES || err == EPERM) {
        detail = "permission denied: needs root or CAP_NET_ADMIN";
    }
    return util::sys_error(std::string("open ") + kCloneDevice, err, std::move(detail));
}

util::Error setiff_error(int err, std::string_view name) {
    // An empty name asks the kernel for one (create_scratch).
    const std::string quoted = name.empty() ? std::string("tunN") : single_quoted(name);
    std::string detail;
    if (err == EPERM) {
        detail = "creating TUN interface " + quoted + " needs CAP_NET_ADMIN";
    } else if (err == EBUSY) {
        detail = "interface " + quoted + " exists and another process has it open";
    } else if (err == EINVAL) {
        detail = "interface " + quoted + " exists but is not a single-queue TUN device";
    } else {
        detail = "cannot create TUN interface " + quoted;
    }
    return util::sys_error("ioctl(TUNSETIFF)", err, std::move(detail));
}

util::Error getiff_error(int err, int fd) {
    const std::string what = "fd " + std::to_string(fd);
    if (err == EBADFD) return util::sys_error("ioctl(TUNGETIFF)", err, what + " has no interface");
    return util::sys_error("ioctl(TUNGETIFF)", err, what + " is not a TUN device");
}

// The interface name the kernel wrote into an ifreq (not necessarily NUL-terminated).
std::string name_in(const ifreq& ifr) {
    return {ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ)};
}

util::Result<int> ifindex_of(const std::string& name) {
    const unsigned idx = ::if_nametoindex(name.c_str());
    if (idx == 0) {
        return util::fail(util::sys_error(
            "if_nametoindex", errno,
            "interface " + single_quoted(name) + " not found in this network namespace"));
    }
    return static_cast<int>(idx);
}

// Rejects TAP devices. IFF_NO_PI cannot be checked here: TUNGETIFF reports IFF_NOFILTER (no
// socket filter attached) in the same bit.
util::Result<void> check_tun_flags(int fd, short flags) {
    const std::string what = "fd " + std::to_string(fd);
    if ((flags & (IFF_TUN | IFF_TAP)) != IFF_TUN) {
        return util::fail(util::make_error("adopt TUN fd", what + " is a TAP, not a TUN device"));
    }
    return {};
}

}  // namespace

util::Result<void> validate_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameLen) {
        return util::fail(util::make_error("interface name",
                                           single_quoted(name) + " must be 1 to 15 bytes long"));
    }
    if (name == "." || name == "..") {
        return util::fail(util::make_error("interface name", "'.' and '..' are not allowed"));
    }
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/' || c == ':' || c == '%' || c == '\0' || std::isspace(u) != 0) {
            return util::fail(util::make_error(
                "interface name", single_quoted(name) +
                                      " contains a forbidden character ('/', ':', '%', "
                                      "NUL or whitespace)"));
        }
    }
    return {};
}

util::Result<TunDevice> TunDevice::create(std::string_view name, bool blocking, bool vnet_hdr) {
    if (auto ok = validate_name(name); !ok) return util::fail(ok.error());
    return attach(name, blocking, vnet_hdr);
}

util::Result<TunDevice> TunDevice::create_scratch(bool vnet_hdr) {
    return attach({}, false, vnet_hdr);
}

util::Result<TunDevice> TunDevice::attach(std::string_view name, bool blocking, bool vnet_hdr) {
    const int open_flags = O_RDWR | O_CLOEXEC | (blocking ? 0 : O_NONBLOCK);
    util::UniqueFd fd(::open(kCloneDevice, open_flags));
    if (!fd) return util::fail(open_error(errno));

    ifreq ifr{};
    ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
    if (!name.empty()) std::memcpy(ifr.ifr_name, name.data(), name.size());
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return util::fail(setiff_error(errno, name));

    std::string actual = name_in(ifr);
    auto idx = ifindex_of(actual);
    if (!idx) return util::fail(idx.error());
    return TunDevice(std::move(fd), std::move(actual), *idx, vnet_hdr);
}

util::Result<TunDevice> TunDevice::adopt(int fd) {
    const int fd_flags = ::fcntl(fd, F_GETFD);
    if (fd_flags < 0) {
        return util::fail(
            util::sys_error("fcntl(F_GETFD)", errno, "fd " + std::to_string(fd) + " is not open"));
    }
    ifreq ifr{};
    if (::ioctl(fd, TUNGETIFF, &ifr) < 0) return util::fail(getiff_error(errno, fd));
    if (auto ok = check_tun_flags(fd, ifr.ifr_flags); !ok) return util::fail(ok.error());

    std::string name = name_in(ifr);
    auto idx = ifindex_of(name);
    if (!idx) return util::fail(idx.error());
    if (::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
        return util::fail(util::sys_error("fcntl(F_SETFD)", errno, "setting FD_CLOEXEC"));
    }
    return TunDevice(util::UniqueFd(fd), std::move(name), *idx,
                     (ifr.ifr_flags & IFF_VNET_HDR) != 0);
}

util::Result<std::optional<TunDevice>> TunDevice::adopt_from_env(const char* variable) {
    const char* value = std::getenv(variable);
    if (value == nullptr) return std::optional<TunDevice>{};

    const std::string_view text(value);
    int fd = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || fd < 0) {
        return util::fail(
            util::make_error(variable, single_quoted(text) + " is not a file descriptor number"));
    }
    auto dev = adopt(fd);
    if (!dev) return util::fail(dev.error());
    return std::optional<TunDevice>(std::move(*dev));
}

util::Result<void> TunDevice::set_offload(unsigned flags) {
    if (::ioctl(fd_.get(), TUNSETOFFLOAD, static_cast<unsigned long>(flags)) < 0)
        return util::fail(util::sys_error("ioctl(TUNSETOFFLOAD)", errno, name_));
    return {};
}

util::Result<void> TunDevice::set_blocking(bool blocking) {
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0) return util::fail(util::sys_error("fcntl(F_GETFL)", errno, name_));
    const int wanted = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
    if (wanted != flags && ::fcntl(fd_.get(), F_SETFL, wanted) < 0) {
        return util::fail(util::sys_error("fcntl(F_SETFL)", errno, name_));
    }
    return {};
}

util::Result<bool> TunDevice::is_blocking() const {
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0) return util::fail(util::sys_error("fcntl(F_GETFL)", errno, name_));
    return (flags & O_NONBLOCK) == 0;
}

}  // namespace ringtun::tun
