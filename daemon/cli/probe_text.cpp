// `ringtun probe` for people: one finding per line, labels aligned, lists wrapped at 100
// columns; see probe.hpp.
#include <cstdio>
#include <string_view>
#include <vector>

#include "daemon/backend/uring/opcodes.hpp"
#include "daemon/cli/probe.hpp"
#include "ring/feature_names.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

namespace {

constexpr std::size_t kLabelWidth = 19;
constexpr std::size_t kWidth = 100;

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto space = text.find(' ');
        if (space != 0) out.emplace_back(text.substr(0, space));
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    return out;
}

class Text {
  public:
    // `value` wrapped at spaces under the value column.
    void row(std::string_view label, std::string_view value) { list(label, words(value), " "); }
    // `items` joined by ", " (or `sep`), wrapped under the value column.
    void list(std::string_view label, const std::vector<std::string>& items,
              std::string_view sep = ", ") {
        std::string line;
        bool first_row = true;
        for (std::size_t i = 0; i < items.size(); ++i) {
            std::string item = items[i] + (i + 1 < items.size() ? std::string(sep) : "");
            if (!line.empty() && kLabelWidth + line.size() + item.size() > kWidth) {
                flush(first_row ? label : "", line);
                first_row = false;
            }
            line += item;
        }
        flush(first_row ? label : "", line);
    }
    std::string take() { return std::move(out_); }

  private:
    void flush(std::string_view label, std::string& line) {
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out_.append(label);
        out_.append(label.size() < kLabelWidth ? kLabelWidth - label.size() : 1, ' ');
        out_.append(line);
        out_ += '\n';
        line.clear();
    }
    std::string out_;
};

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

std::string version_text(const ring::KernelVersion& k) {
    return std::to_string(k.major) + "." + std::to_string(k.minor) + "." + std::to_string(k.patch);
}

std::string sysctl_text(const ring::IoUringAvailability& a) {
    if (!a.sysctl_disabled) return "kernel.io_uring_disabled absent (before Linux 6.6)";
    static constexpr const char* meaning[] = {
        "every process may create rings",
        "only CAP_SYS_ADMIN or kernel.io_uring_group may create rings",
        "no process may create rings"};
    return "kernel.io_uring_disabled = " + std::to_string(*a.sysctl_disabled) + " (" +
           meaning[*a.sysctl_disabled] + ")";
}

std::string seccomp_text(const std::optional<int>& mode) {
    if (!mode) return "unknown (no Seccomp field in /proc/self/status)";
    static constexpr const char* name[] = {"none", "strict", "filter"};
    return std::to_string(*mode) + " (" + name[*mode] + ")";
}

void features_rows(Text& t, const ring::Features& f) {
    t.list("  features",
           {std::string("read_multishot ") + yes_no(f.read_multishot),
            std::string("recvmsg_multishot ") + yes_no(f.recvmsg_multishot),
            std::string("buffer_rings ") + yes_no(f.buffer_rings),
            std::string("single_issuer+defer_taskrun ") + yes_no(f.single_issuer_defer_taskrun),
            std::string("coop_taskrun ") + yes_no(f.coop_taskrun),
            std::string("send_zc ") + yes_no(f.send_zc)});
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x:", f.feature_bits);
    std::vector<std::string> bits{hex};
    std::uint32_t named = 0;
    for (const ring::FeatureBit& b : ring::feature_bit_names()) {
        named |= b.mask;
        if (f.has_feature(b.mask)) bits.emplace_back(b.name);
    }
    for (unsigned i = 0; i < 32; ++i)
        if ((f.feature_bits & ~named) & (1U << i)) bits.push_back("bit" + std::to_string(i));
    t.list("  feature bits", bits, " ");
    std::vector<std::string> ops;
    for (const UringOpcode& op : kUringOpcodes)
        ops.push_back(std::string(op.name) + " " + yes_no(f.supports(op.op)));
    t.list("  opcodes", ops);
}

void io_uring_rows(Text& t, const ProbeReport& r) {
    const ring::IoUringAvailability& a = r.io_uring;
    t.row("io_uring", std::string(a.usable ? "permitted: " : "refused: ") + a.reason);
    t.row("  sysctl", sysctl_text(a));
    t.row("  seccomp", seccomp_text(a.seccomp_mode));
    if (r.features) features_rows(t, *r.features);
    if (a.usable && !r.features) t.row("  features", "probe failed: " + r.features_error);
}

void offload_rows(Text& t, const ProbeReport& r) {
    if (const auto& s = r.tun) {
        t.list(
            "TUN offloads",
            {std::string("vnet_hdr ") + yes_no(s->vnet_hdr), std::string("csum ") + yes_no(s->csum),
             std::string("tso4 ") + yes_no(s->tso4), std::string("tso6 ") + yes_no(s->tso6),
             std::string("uso4+uso6 ") + yes_no(s->uso)});
    } else {
        t.row("TUN offloads", "unknown (" + r.tun_error + ")");
    }
    if (r.udp_gso && r.udp_gro)
        t.row("UDP offloads", std::string("gso (UDP_SEGMENT) ") + yes_no(*r.udp_gso) +
                                  ", gro (UDP_GRO) " + yes_no(*r.udp_gro));
    else
        t.row("UDP offloads", "unknown (" + r.udp_error + ")");
}

std::string tun_read_text(const LoopParams& p) {
    if (p.tun_read_multishot)
        return "multishot (IORING_OP_READ_MULTISHOT, Linux 6.7+: one request for every packet)";
    return "slots (no IORING_OP_READ_MULTISHOT before Linux 6.7: a chain of single reads)";
}

void ring_rows(Text& t, const ProbeReport& r) {
    if (!r.ring) return;
    const LoopParams& p = r.ring->params;
    const unsigned udp_buffers = r.udp_gro.value_or(false) ? 64 : 256;
    t.row("[ring] defaults", "what an empty [ring] section takes on this kernel");
    t.row("  entries", std::to_string(p.entries) + " (the completion queue is 8x)");
    t.row("  tun_read", tun_read_text(p));
    t.row("  tun_rx_slots", std::to_string(p.tun_rx_slots) + " (used with tun_read = \"slots\")");
    t.row("  udp_rx_slots", std::to_string(p.udp_rx_slots) +
                                " (by offloads: 64 with UDP GRO, else 256; here " +
                                std::to_string(udp_buffers) + ")");
    t.row("  tx_slots", std::to_string(p.tx_slots));
    const char* why = r.kernel ? ring::tun_blocking_reason(*r.kernel) : "";
    t.row("  tun_blocking", std::string(r.ring->tun_blocking ? "true (" : "false (") + why + ")");
    t.row("  sqpoll_idle_ms", std::to_string(p.sqpoll_idle_ms) + " (no SQPOLL)");
    t.row("  task run", std::string(ring::to_string(r.ring->taskrun)) +
                            " (the first setup mode this kernel accepts)");
}

}  // namespace

std::string probe_text(const ProbeReport& r) {
    Text t;
    t.row("kernel", r.release + (r.kernel ? " (" + version_text(*r.kernel) + ")" : " (unparsed)"));
    io_uring_rows(t, r);
    offload_rows(t, r);
    ring_rows(t, r);
    t.row("backend (auto)", std::string(to_string(r.backend.backend)) + ": " + r.backend.reason);
    return t.take();
}

}  // namespace ringtun::daemon
