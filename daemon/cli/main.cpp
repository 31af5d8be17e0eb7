// ringtun's command line: key tools, configuration check, and the daemon itself.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "crypto/openssl.hpp"
#include "daemon/cli/check.hpp"
#include "daemon/cli/key_commands.hpp"
#include "daemon/cli/run.hpp"
#include "daemon/cli/version.hpp"
#include "daemon/cli/wg_command.hpp"
#include "util/log.hpp"

namespace {

constexpr const char* usage_text =
    "Usage: ringtun <command> [arguments]\n"
    "       ringtun [-f|--foreground] IFNAME\n"
    "\n"
    "A WireGuard data-plane daemon on one io_uring loop.\n"
    "\n"
    "Commands:\n"
    "  run FILE        bring up the interface described by FILE and run in the foreground\n"
    "                  (--debug before FILE logs every handshake event); SIGHUP reloads FILE\n"
    "  IFNAME          as wireguard-go: create the interface IFNAME, unconfigured, for wg and\n"
    "                  wg-quick (WG_QUICK_USERSPACE_IMPLEMENTATION=ringtun); daemonises unless\n"
    "                  -f/--foreground or WG_PROCESS_FOREGROUND=1\n"
    "  check FILE      validate FILE and exit 0, or print the error and exit 1\n"
    "  genkey          write a new private key (base64) to standard output\n"
    "  pubkey          read a private key on standard input, write its public key\n"
    "  --version       print the version\n"
    "  --help          print this help\n";

int usage_error(const char* what) {
    std::fprintf(stderr, "ringtun: %s\n\n%s", what, usage_text);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace ringtun;
    if (argc < 2) return usage_error("no command given");
    const std::string_view cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::fputs(usage_text, stdout);
        return 0;
    }
    if (cmd == "--version" || cmd == "version") {
        std::printf("ringtun %s\n", daemon::version());
        return 0;
    }
    if (!crypto::self_check()) {
        std::fputs("ringtun: OpenSSL lacks BLAKE2s or ChaCha20-Poly1305\n", stderr);
        return 1;
    }
    if (argc != 2 && (cmd == "genkey" || cmd == "pubkey"))
        return usage_error("genkey and pubkey take no arguments");
    if (cmd == "genkey") return daemon::genkey(stdout);
    if (cmd == "pubkey") return daemon::pubkey(stdin, stdout, stderr);
    if (cmd == "run" || cmd == "check") {
        int i = 2;
        if (cmd == "run" && i < argc && std::string_view(argv[i]) == "--debug") {
            util::log::set_debug(true);
            ++i;
        }
        if (argc != i + 1) return usage_error("run and check take one configuration file");
        return cmd == "run" ? daemon::run_command(argv[i]) : daemon::check_command(argv[i]);
    }
    // wireguard-go's command line: `ringtun [-f|--foreground] IFNAME`.
    if (cmd == "-f" || cmd == "--foreground") {
        if (argc != 3) return usage_error("-f takes one interface name");
        return daemon::wg_command(argv[2], true);
    }
    if (argc == 2 && !cmd.starts_with('-')) return daemon::wg_command(cmd, false);
    std::string msg = "unknown command '" + std::string(cmd) + "'";
    return usage_error(msg.c_str());
}
