#include "daemon/datapath/tun_writes.hpp"

#include <cerrno>
#include <cstring>

#include "tun/gro_unmerge.hpp"

namespace ringtun::daemon {

TunWrites::TunWrites(const Params& p, TunPort& tun, NetPort& net)
    : tun_(tun),
      net_(net),
      pool_(p.slots),
      writes_(p.slots),
      refs_(p.rx_buffers, 0),
      vnet_hdr_(p.vnet_hdr),
      gro_on_(p.vnet_hdr && p.gro) {
    if (gro_on_)
        gro_ = std::make_unique<tun::GroTable>(tun::GroParams{.max_flows = p.slots / 4 + 1,
                                                              .max_segments = max_gro_segments,
                                                              .udp = p.gro_udp,
                                                              .verify_checksums = p.gro_verify});
}

void TunWrites::hold(std::uint16_t rx) noexcept {
    if (rx < refs_.size()) ++refs_[rx];
}

void TunWrites::release(std::uint16_t rx) noexcept {
    if (rx >= refs_.size() || refs_[rx] == 0) return;
    if (--refs_[rx] == 0) net_.recycle_rx(rx);
}

void TunWrites::add(std::span<std::uint8_t> packet, std::uint16_t rx) noexcept {
    if (gro_on_) {
        // A full table is written now, so packets of one flow keep their order.
        auto joined = gro_->add(packet, rx);
        if (!joined) {
            flush();
            joined = gro_->add(packet, rx);
        }
        if (joined) {
            hold(rx);  // the table's reference, until flush() hands it to a write
            return;
        }
    }
    (void)write_one(packet, rx);
}

bool TunWrites::write_one(std::span<const std::uint8_t> packet, std::uint16_t rx) noexcept {
    const auto s = pool_.acquire();
    if (!s) {
        ++counters_.no_write_slot;
        return false;
    }
    Write& w = writes_[s->index];
    w.generation = s->generation;
    w.coalesced = false;
    w.pieces = 1;
    w.rx[0] = rx;
    hold(rx);
    unsigned n = 0;
    if (vnet_hdr_) {
        w.vnet = {};  // flags 0: the kernel checks the checksums itself
        w.iov[n++] = {w.vnet.data(), w.vnet.size()};
    }
    w.iov[n] = {const_cast<std::uint8_t*>(packet.data()), packet.size()};
    submit(s->index);
    return true;
}

void TunWrites::flush() noexcept {
    if (!gro_on_ || gro_->size() == 0) return;
    gro_->finish();
    for (std::uint32_t i = 0; i < gro_->size(); ++i)
        write_item(gro_->item(i));
    clear_table();
}

void TunWrites::clear_table() noexcept {
    // The table's references moved to the writes (or the packets were counted as lost).
    for (std::uint32_t i = 0; i < gro_->size(); ++i)
        for (const std::uint32_t tag : gro_->item(i).tags)
            release(static_cast<std::uint16_t>(tag));
    gro_->clear();
}

void TunWrites::write_item(const tun::GroTable::Item& item) noexcept {
    const auto s = pool_.acquire();
    if (!s) {
        counters_.no_write_slot += item.pieces.size();
        return;
    }
    Write& w = writes_[s->index];
    w.generation = s->generation;
    w.coalesced = item.pieces.size() > 1;
    w.pieces = static_cast<std::uint16_t>(item.pieces.size());
    tun::write_vnet_hdr(item.hdr, w.vnet.data());
    w.iov[0] = {w.vnet.data(), w.vnet.size()};
    for (std::size_t j = 0; j < item.pieces.size(); ++j) {
        w.iov[1 + j] = item.pieces[j];
        w.rx[j] = static_cast<std::uint16_t>(item.tags[j]);
        hold(w.rx[j]);
    }
    submit(s->index);
}

std::span<const iovec> TunWrites::pieces(std::uint32_t slot) const noexcept {
    const Write& w = writes_[slot];
    return {w.iov.data(), w.pieces + (vnet_hdr_ ? 1u : 0u)};
}

void TunWrites::submit(std::uint32_t slot) noexcept {
    Write& w = writes_[slot];
    if (!tun_.write(slot, w.generation, pieces(slot))) {
        counters_.errors += w.pieces;
        finish(slot);
    }
}

void TunWrites::finish(std::uint32_t slot) noexcept {
    Write& w = writes_[slot];
    for (std::uint16_t j = 0; j < w.pieces; ++j)
        release(w.rx[j]);
    w.pieces = 0;
    (void)pool_.release(slot);
}

bool TunWrites::on_written(std::uint32_t slot, std::uint16_t generation, int result) noexcept {
    if (!pool_.is_current(slot, generation)) return false;
    Write& w = writes_[slot];
    const bool absorbed = result == -EINVAL && w.coalesced;
    if (absorbed) {
        ++counters_.gro_refused;
        if (gro_on_)
            RT_LOG_WARN("TUN refused a coalesced write (EINVAL); TUN GRO is off from now on");
        gro_on_ = false;
        rewrite_one_by_one(slot);
        write_held_apart();  // newer than the refused write: after it
    } else if (result < 0) {
        if (result != -ECANCELED) counters_.errors += w.pieces;
    } else {
        counters_.packets += w.pieces;
        counters_.bytes += static_cast<std::uint64_t>(result);
        ++counters_.writes;
        if (w.coalesced) ++counters_.coalesced;
    }
    finish(slot);
    return absorbed;
}

template <typename Rx>
void TunWrites::write_apart(const tun::VirtioNetHdr& h, std::span<const iovec> pieces,
                            Rx&& rx) noexcept {
    if (pieces.empty()) return;
    // The head's headers were rewritten for the whole item (not for an item of one packet);
    // the others' are untouched in front of their payloads.
    auto* head = static_cast<std::uint8_t*>(pieces[0].iov_base);
    tun::unmerge_head(h, {head, pieces[0].iov_len});
    (void)write_one({head, pieces[0].iov_len}, rx(0));
    for (std::size_t j = 1; j < pieces.size(); ++j) {
        const auto* payload = static_cast<const std::uint8_t*>(pieces[j].iov_base);
        (void)write_one({payload - h.hdr_len, pieces[j].iov_len + h.hdr_len}, rx(j));
    }
}

void TunWrites::rewrite_one_by_one(std::uint32_t slot) noexcept {
    const Write& w = writes_[slot];
    write_apart(tun::read_vnet_hdr(w.vnet.data()), {&w.iov[1], w.pieces},
                [&w](std::size_t j) { return w.rx[j]; });
}

void TunWrites::write_held_apart() noexcept {
    if (!gro_ || gro_->size() == 0) return;
    gro_->finish();
    for (std::uint32_t i = 0; i < gro_->size(); ++i) {
        const tun::GroTable::Item item = gro_->item(i);
        write_apart(item.hdr, item.pieces,
                    [&item](std::size_t j) { return static_cast<std::uint16_t>(item.tags[j]); });
    }
    clear_table();
}

}  // namespace ringtun::daemon
