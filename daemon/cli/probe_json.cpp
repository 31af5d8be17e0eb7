// `ringtun probe --json`: one object whose keys are documented in ringtun(8) and stay stable
// (new keys may be added; none is renamed or removed). Unknowns are null, never left out.
#include <cstdio>

#include "daemon/backend/uring/opcodes.hpp"
#include "daemon/cli/json_writer.hpp"
#include "daemon/cli/probe.hpp"
#include "ring/feature_names.hpp"

namespace ringtun::daemon {

namespace {

void kernel_json(JsonWriter& w, const ProbeReport& r) {
    w.key("kernel");
    w.begin_object();
    w.field("release", r.release);
    if (r.kernel) {
        w.field("major", r.kernel->major);
        w.field("minor", r.kernel->minor);
        w.field("patch", r.kernel->patch);
    } else {
        for (const char* k : {"major", "minor", "patch"}) {
            w.key(k);
            w.null();
        }
    }
    w.end_object();
}

void features_json(JsonWriter& w, const ring::Features& f) {
    w.begin_object();
    w.field("read_multishot", f.read_multishot);
    w.field("recvmsg_multishot", f.recvmsg_multishot);
    w.field("buffer_rings", f.buffer_rings);
    w.field("single_issuer_defer_taskrun", f.single_issuer_defer_taskrun);
    w.field("coop_taskrun", f.coop_taskrun);
    w.field("send_zc", f.send_zc);
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", f.feature_bits);
    w.field("feature_bits", hex);
    w.key("feature_flags");
    w.begin_object();
    for (const ring::FeatureBit& b : ring::feature_bit_names())
        w.field(b.name, f.has_feature(b.mask));
    w.end_object();
    w.key("opcodes");
    w.begin_object();
    for (const UringOpcode& op : kUringOpcodes)
        w.field(op.name, f.supports(op.op));
    w.end_object();
    w.end_object();
}

void io_uring_json(JsonWriter& w, const ProbeReport& r) {
    const ring::IoUringAvailability& a = r.io_uring;
    w.key("io_uring");
    w.begin_object();
    w.field("permitted", a.usable);
    w.field("blocker", ring::to_string(a.blocker));
    w.field("failed_call",
            a.failed_call ? std::optional<std::string>(a.failed_call) : std::nullopt);
    w.field("errno",
            a.error ? std::optional<std::string>(util::errno_name(a.error)) : std::nullopt);
    w.field("reason", a.reason);
    w.field("sysctl_disabled", a.sysctl_disabled);
    w.field("sysctl_group", a.sysctl_group);
    w.field("seccomp_mode", a.seccomp_mode);
    w.key("features");
    if (r.features)
        features_json(w, *r.features);
    else
        w.null();
    w.field("features_error",
            r.features_error.empty() ? std::nullopt : std::optional<std::string>(r.features_error));
    w.end_object();
}

std::optional<std::string> unless_empty(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

void offloads_json(JsonWriter& w, const ProbeReport& r) {
    w.key("tun_offloads");
    w.begin_object();
    const auto& t = r.tun;
    w.field("known", t.has_value());
    w.field("unknown_reason", unless_empty(r.tun_error));
    w.field("vnet_hdr", t ? std::optional<bool>(t->vnet_hdr) : std::nullopt);
    w.field("csum", t ? std::optional<bool>(t->csum) : std::nullopt);
    w.field("tso4", t ? std::optional<bool>(t->tso4) : std::nullopt);
    w.field("tso6", t ? std::optional<bool>(t->tso6) : std::nullopt);
    // The kernel takes USO4 and USO6 only together: one answer for both.
    w.field("uso4", t ? std::optional<bool>(t->uso) : std::nullopt);
    w.field("uso6", t ? std::optional<bool>(t->uso) : std::nullopt);
    w.end_object();
    w.key("udp_offloads");
    w.begin_object();
    w.field("known", r.udp_gso.has_value());
    w.field("unknown_reason", unless_empty(r.udp_error));
    w.field("gso", r.udp_gso);
    w.field("gro", r.udp_gro);
    w.end_object();
}

void ring_json(JsonWriter& w, const ProbeReport& r) {
    w.key("ring");
    if (!r.ring) {
        w.null();
        return;
    }
    const LoopParams& p = r.ring->params;
    w.begin_object();
    w.field("entries", p.entries);
    w.field("tun_read", p.tun_read_multishot ? "multishot" : "slots");
    w.field("tun_rx_slots", p.tun_rx_slots);
    w.field("udp_rx_slots", p.udp_rx_slots);
    w.field("udp_rx_buffers", r.udp_gro.value_or(false) ? 64U : 256U);
    w.field("tx_slots", p.tx_slots);
    w.field("tun_blocking", r.ring->tun_blocking);
    w.field(
        "tun_blocking_reason",
        r.kernel ? std::optional<std::string>(ring::tun_blocking_reason(*r.kernel)) : std::nullopt);
    w.field("sqpoll_idle_ms", p.sqpoll_idle_ms);
    w.field("tcp_rx_buffers", p.tcp_rx_buffers);
    w.field("tcp_max_connections", p.tcp_max_connections);
    w.field("taskrun", ring::to_string(r.ring->taskrun));
    w.end_object();
}

}  // namespace

std::string probe_json(const ProbeReport& r, const char* version) {
    JsonWriter w;
    w.begin_object();
    w.field("ringtun", version);
    kernel_json(w, r);
    io_uring_json(w, r);
    offloads_json(w, r);
    ring_json(w, r);
    w.key("backend");
    w.begin_object();
    w.field("auto", to_string(r.backend.backend));
    w.field("reason", r.backend.reason);
    w.end_object();
    w.end_object();
    return w.str();
}

}  // namespace ringtun::daemon
