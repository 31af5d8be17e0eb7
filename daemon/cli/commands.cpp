#include "daemon/cli/commands.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/openssl.hpp"
#include "daemon/cli/check.hpp"
#include "daemon/cli/key_commands.hpp"
#include "daemon/cli/probe.hpp"
#include "daemon/cli/reload_client.hpp"
#include "daemon/cli/run.hpp"
#include "daemon/cli/tune/plan.hpp"
#include "daemon/cli/tune/tune.hpp"
#include "daemon/cli/version.hpp"
#include "daemon/cli/wg_command.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

struct Args {
    std::vector<std::string_view> positional;
    std::vector<std::string> flags;  // as given, "--key VALUE" spelled "--key=VALUE"
    bool has(std::string_view flag) const {
        return std::find(flags.begin(), flags.end(), flag) != flags.end();
    }
    // Whether a "KEY=VALUE" flag was given (KEY with its '='), an empty VALUE too.
    bool has_value(std::string_view key) const {
        return std::any_of(flags.begin(), flags.end(),
                           [&](const std::string& f) { return f.starts_with(key); });
    }
    // The VALUE of the last "KEY=VALUE" flag (KEY given with its '='), or empty.
    std::string_view value(std::string_view key) const {
        std::string_view v;
        for (const std::string& f : flags)
            if (std::string_view(f).starts_with(key)) v = std::string_view(f).substr(key.size());
        return v;
    }
};

struct Command {
    std::string_view name;
    std::string_view synopsis;  // after "ringtun "
    std::string_view summary;   // one line for the overview
    std::string_view help;      // the rest of `ringtun NAME --help`
    std::size_t min_args, max_args;
    std::vector<std::string_view> flags;
    bool needs_crypto;  // OpenSSL's algorithms checked first
    int (*run)(const Args&);
};

const std::vector<Command>& commands();
const Command* find_command(std::string_view name);

void print_overview(std::FILE* out) {
    std::fputs(
        "Usage: ringtun COMMAND [ARGUMENTS]\n"
        "       ringtun [-f|--foreground] IFNAME\n"
        "\n"
        "A WireGuard data-plane daemon on one io_uring loop.\n"
        "\n"
        "Commands:\n",
        out);
    for (const Command& c : commands())
        std::fprintf(out, "  %-22.*s %.*s\n", static_cast<int>(c.synopsis.size()),
                     c.synopsis.data(), static_cast<int>(c.summary.size()), c.summary.data());
    std::fputs(
        "  [-f] IFNAME            as wireguard-go: create the interface IFNAME, unconfigured,\n"
        "                         for wg and wg-quick (WG_QUICK_USERSPACE_IMPLEMENTATION=ringtun)\n"
        "\n"
        "`ringtun COMMAND --help` describes a command.\n",
        out);
}

void print_help(const Command& c, std::FILE* out) {
    std::fprintf(out, "Usage: ringtun %.*s\n\n%.*s", static_cast<int>(c.synopsis.size()),
                 c.synopsis.data(), static_cast<int>(c.help.size()), c.help.data());
}

int usage_error(const std::string& what, const Command* c) {
    std::fprintf(stderr, "ringtun: %s\n", what.c_str());
    if (c != nullptr)
        std::fprintf(stderr, "Usage: ringtun %.*s (see ringtun %.*s --help)\n",
                     static_cast<int>(c->synopsis.size()), c->synopsis.data(),
                     static_cast<int>(c->name.size()), c->name.data());
    else
        std::fputs("See ringtun --help.\n", stderr);
    return 2;
}

int run_cmd(const Args& a) {
    if (a.has("--debug")) util::log::set_debug(true);
    return run_command(std::string(a.positional[0]), std::string(a.value("--name=")));
}
int reload_cmd(const Args& a) {
    return reload_command(a.positional[0]);
}
int check_cmd(const Args& a) {
    return check_command(std::string(a.positional[0]));
}
int genkey_cmd(const Args&) {
    return genkey(stdout, stderr);
}
int genpsk_cmd(const Args&) {
    return genpsk(stdout, stderr);
}
int pubkey_cmd(const Args&) {
    return pubkey(stdin, stdout, stderr);
}
int probe_cmd(const Args& a) {
    return probe_command(a.has("--json"));
}
int tune_cmd(const Args& a) {
    const Command* self = find_command("tune");
    tune::Options o;
    if (const std::string_view b = a.value("--budget="); !b.empty()) {
        const std::string text(b);
        char* end = nullptr;
        o.budget_s = std::strtod(text.c_str(), &end);
        const double min = tune::minimum_budget_s();
        if (end == text.c_str() || *end != '\0' || !std::isfinite(o.budget_s) || o.budget_s < min ||
            o.budget_s > 86400)
            return usage_error("--budget: '" + text + "' is not a number of seconds from " +
                                   std::to_string(static_cast<int>(min)) + " to 86400",
                               self);
    }
    for (const auto& [flag, path] : {std::pair{"--csv=", &o.csv}, std::pair{"--svg=", &o.svg}}) {
        if (!a.has_value(flag)) continue;
        *path = std::string(a.value(flag));
        if (path->empty())
            return usage_error(std::string(flag).substr(0, 5) + ": an empty path", self);
    }
    return tune::tune_command(o);
}
int version_cmd(const Args&) {
    std::printf("ringtun %s\n", version());
    return 0;
}
int help_cmd(const Args&) {
    print_overview(stdout);
    return 0;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"run",
         "run [--debug] [--name=IFNAME] FILE",
         "bring up the interface FILE describes; foreground",
         "Brings up the interface the TOML file FILE describes and runs it in the foreground,\n"
         "logging to standard error. SIGTERM or SIGINT stop it; SIGHUP reloads FILE (peers\n"
         "whose settings did not change keep their sessions); SIGUSR1 logs the counters.\n"
         "\n"
         "  --debug          also log every handshake event\n"
         "  --name=IFNAME    the interface's name, whatever FILE's [interface] name says (the\n"
         "                   systemd unit passes its instance, as wg-quick names an interface\n"
         "                   after its file)\n",
         1,
         1,
         {"--debug", "--name="},
         true,
         run_cmd},
        {"check",
         "check FILE",
         "validate FILE: exit 0, or the error and exit 1",
         "Checks FILE as `run` would before opening anything, and says what is wrong with its\n"
         "file, line and column. Exit status 0 if `run` would accept it. An endpoint host name\n"
         "that does not resolve now is a warning (`run` starts, and the peer waits for it).\n",
         1,
         1,
         {},
         true,
         check_cmd},
        {"reload",
         "reload IFNAME",
         "make the daemon of IFNAME reload its file; wait for it",
         "Asks the ringtun serving IFNAME (over /var/run/wireguard/IFNAME.sock) to read its\n"
         "configuration file again and apply it as SIGHUP does, and waits for the answer: exit\n"
         "status 0 once applied, 1 with the daemon's error if the file was refused. What the\n"
         "systemd unit's ExecReload= runs.\n",
         1,
         1,
         {},
         false,
         reload_cmd},
        {"probe",
         "probe [--json]",
         "say what this host offers and what ringtun will use",
         "Probes this host and prints what ringtun finds and would use: the kernel; whether\n"
         "io_uring is permitted, and if not why (kernel.io_uring_disabled, a seccomp filter, a\n"
         "kernel without it); the io_uring features and operations the loop relies on; the TUN\n"
         "offloads (TSO, USO: a throwaway TUN is created, which needs CAP_NET_ADMIN) and UDP\n"
         "GSO/GRO; the [ring] defaults for this kernel; the backend [ring] backend = \"auto\"\n"
         "would choose. Exit status 0 whatever it finds, 1 if it cannot probe at all.\n"
         "\n"
         "  --json    one JSON object instead (keys in ringtun(8))\n",
         0,
         0,
         {"--json"},
         false,
         probe_cmd},
        {"tune",
         "tune [--budget SECONDS] [--csv PATH] [--svg PATH]",
         "measure the [ring] tunables here; recommend a [ring] section",
         "Sweeps the [ring] tunables on this host with ringtun's own traffic: it makes two\n"
         "network namespaces joined by a veth pair, runs `ringtun run` in each, and for the\n"
         "defaults and each key changed alone (backend, tun_read and tun_rx_slots,\n"
         "udp_rx_slots, tx_slots, entries, tun_blocking, sqpoll_idle_ms) measures one TCP\n"
         "stream's throughput, both daemons' CPU seconds per GB, the highest rate of 64-byte\n"
         "datagrams with less than 1% loss, and the median round trip. Points this kernel\n"
         "cannot run are skipped, with the reason `ringtun check` would give. Prints a table\n"
         "and the recommended [ring] section (pastable into a configuration) with the figures\n"
         "that justify it: the fastest point, CPU per GB deciding between points within 3%\n"
         "(or the noise: how much two runs of the defaults differ), none costing more than\n"
         "10% of the defaults' small-packet capacity or 25% on their latency (or their\n"
         "noise); the defaults unless a point beats them by that margin. Needs root. Ctrl-C\n"
         "stops it promptly; the namespaces and daemons go with it.\n"
         "Exit status 0, 1 on an error, 128+N after signal N.\n"
         "\n"
         "  --budget SECONDS  the whole run, lab included (default 180, at least 15); points\n"
         "                    that do not fit are skipped, the measurements shortened\n"
         "  --csv PATH        the sweep as CSV (default ringtun-tune.csv)\n"
         "  --svg PATH        the sweep as an SVG chart (default ringtun-tune.svg)\n",
         0,
         0,
         {"--budget=", "--csv=", "--svg="},
         true,
         tune_cmd},
        {"genkey",
         "genkey",
         "write a new private key (base64)",
         "Writes a new private key, base64, as `wg genkey` does. Warns when the output is a\n"
         "file others can read (set the umask to 077 first).\n",
         0,
         0,
         {},
         true,
         genkey_cmd},
        {"genpsk",
         "genpsk",
         "write a new preshared key (base64)",
         "Writes a new preshared key, base64, as `wg genpsk` does.\n",
         0,
         0,
         {},
         true,
         genpsk_cmd},
        {"pubkey",
         "pubkey",
         "read a private key on standard input, write its public key",
         "Reads a base64 private key on standard input and writes its public key, as `wg\n"
         "pubkey` does.\n",
         0,
         0,
         {},
         true,
         pubkey_cmd},
        {"version",
         "version",
         "print the version",
         "Prints the version.\n",
         0,
         0,
         {},
         false,
         version_cmd},
        {"help",
         "help",
         "print this overview",
         "Prints the overview of the commands.\n",
         0,
         0,
         {},
         false,
         help_cmd},
    };
    return table;
}

bool lists(const Command& c, std::string_view flag) {
    return std::find(c.flags.begin(), c.flags.end(), flag) != c.flags.end();
}

const Command* find_command(std::string_view name) {
    for (const Command& c : commands())
        if (c.name == name) return &c;
    return nullptr;
}

// Flags anywhere after the command, `--` ends them; a flag listed as "--key=" takes its value
// after the '=' or as the next word ("--budget 60"). Returns a usage error's exit status, or
// -1 when `out` holds the arguments.
int parse(const Command& c, std::span<char*> words, Args& out) {
    bool flags_done = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view word = words[i];
        if (!flags_done && word == "--") {
            flags_done = true;
        } else if (!flags_done && word.size() > 1 && word[0] == '-') {
            const auto eq = word.find('=');
            const std::string_view key =
                eq == std::string_view::npos ? word : word.substr(0, eq + 1);
            if (eq == std::string_view::npos && lists(c, std::string(word) + "=")) {
                if (i + 1 == words.size())
                    return usage_error("option '" + std::string(word) + "' needs a value", &c);
                out.flags.push_back(std::string(word) + "=" + words[++i]);
            } else if (lists(c, key)) {
                out.flags.emplace_back(word);
            } else {
                return usage_error("unknown option '" + std::string(word) + "'", &c);
            }
        } else {
            out.positional.push_back(word);
        }
    }
    if (out.positional.size() < c.min_args || out.positional.size() > c.max_args)
        return usage_error(std::string(c.name) + ": wrong number of arguments", &c);
    return -1;
}

bool wants_help(std::span<char*> words) {
    for (char* w : words) {
        const std::string_view word = w;
        if (word == "--") return false;
        if (word == "--help" || word == "-h") return true;
    }
    return false;
}

}  // namespace

int dispatch(int argc, char** argv) {
    if (argc < 2) return usage_error("no command given", nullptr);
    const std::string_view first = argv[1];
    if (first == "--help" || first == "-h") return help_cmd({});
    if (first == "--version") return version_cmd({});
    const std::span<char*> rest(argv + 2, static_cast<std::size_t>(argc - 2));
    for (const Command& c : commands()) {
        if (c.name != first) continue;
        if (wants_help(rest)) {
            print_help(c, stdout);
            return 0;
        }
        Args args;
        if (const int rc = parse(c, rest, args); rc >= 0) return rc;
        if (c.needs_crypto && !crypto::self_check()) {
            std::fputs("ringtun: OpenSSL lacks ChaCha20-Poly1305\n", stderr);
            return 1;
        }
        return c.run(args);
    }
    // wireguard-go's command line: `ringtun [-f|--foreground] IFNAME`.
    const bool foreground = first == "-f" || first == "--foreground";
    if ((foreground || (argc == 2 && !first.starts_with('-'))) && !crypto::self_check()) {
        std::fputs("ringtun: OpenSSL lacks ChaCha20-Poly1305\n", stderr);
        return 1;
    }
    if (foreground) {
        if (argc != 3) return usage_error("-f takes one interface name", nullptr);
        return wg_command(argv[2], true);
    }
    if (argc == 2 && !first.starts_with('-')) return wg_command(first, false);
    return usage_error("unknown command '" + std::string(first) + "'", nullptr);
}

}  // namespace ringtun::daemon
