// Fakes at the datapath's I/O seams (ports.hpp): a TUN and a UDP socket that record what the
// datapath asks of them, without I/O. Completions are the test's to deliver.
//
// Buffers are tracked: each TUN read buffer and each receive buffer the test lends is marked
// until the datapath gives it back, and a buffer given back twice, or never lent, is counted
// (bad_recycles), so "recycled exactly once" is one check.
//
// Nothing here allocates once the vectors have the capacity reserve() gives them and
// keep_bytes is off, so the allocation-counting test can use them too.
#pragma once

#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "daemon/datapath/ports.hpp"
#include "daemon/datapath/tx_slots.hpp"

namespace ringtun::test {

using Bytes = std::vector<std::uint8_t>;

// Tracks which buffers of a pool are lent out, and counts the ones that come back wrongly.
class Lent {
  public:
    explicit Lent(std::size_t count) : lent_(count, 0), recycles_(count, 0) {}

    void lend(std::uint16_t id) {
        if (id >= lent_.size() || lent_[id]) ++bad;
        if (id < lent_.size()) lent_[id] = 1;
    }
    void give_back(std::uint16_t id) {
        if (id >= lent_.size() || !lent_[id]) {
            ++bad;
            return;
        }
        lent_[id] = 0;
        ++recycles_[id];
    }
    bool is_lent(std::uint16_t id) const { return id < lent_.size() && lent_[id]; }
    std::size_t lent_count() const {
        std::size_t n = 0;
        for (const std::uint8_t l : lent_)
            n += l;
        return n;
    }
    // Times buffer `id` came back, in all.
    std::size_t recycles(std::uint16_t id) const { return id < lent_.size() ? recycles_[id] : 0; }
    // The first buffer not lent, or -1.
    int first_free() const {
        for (std::size_t i = 0; i < lent_.size(); ++i)
            if (!lent_[i]) return static_cast<int>(i);
        return -1;
    }

    std::size_t bad = 0;  // given back twice, or never lent

  private:
    std::vector<std::uint8_t> lent_;
    std::vector<std::size_t> recycles_;
};

class FakeTun final : public daemon::TunPort {
  public:
    struct Write {
        std::uint32_t slot = 0;
        std::uint16_t generation = 0;
        std::span<const iovec> pieces;  // valid until the write completes
        Bytes bytes;                    // the pieces concatenated, when keep_bytes
        std::size_t length = 0;         // of the pieces together
    };

    explicit FakeTun(std::size_t count) : buffers(count) {}

    void recycle(std::uint16_t bid) noexcept override {
        buffers.give_back(bid);
        ++recycled;
    }

    bool write(std::uint32_t slot, std::uint16_t generation,
               std::span<const iovec> pieces) noexcept override {
        if (refuse) return false;
        Write w{slot, generation, pieces, {}, 0};
        for (const iovec& v : pieces) {
            const auto* p = static_cast<const std::uint8_t*>(v.iov_base);
            if (keep_bytes) w.bytes.insert(w.bytes.end(), p, p + v.iov_len);
            w.length += v.iov_len;
        }
        writes.push_back(std::move(w));
        return true;
    }

    void reserve(std::size_t n) { writes.reserve(n); }

    Lent buffers;               // TUN read buffers
    std::size_t recycled = 0;   // recycle() calls
    std::vector<Write> writes;  // every write started, in order
    std::size_t completed = 0;  // writes[0, completed) have had their completion
    bool refuse = false;        // write() returns false
    bool keep_bytes = true;
};

class FakeNet final : public daemon::NetPort {
  public:
    struct Send {
        std::uint32_t head = 0;
        std::uint16_t generation = 0;
        unsigned count = 0;
    };

    explicit FakeNet(std::size_t count) : rx(count) {}

    bool send_udp(std::uint32_t head, unsigned count) noexcept override {
        if (refuse) return false;
        sends.push_back({head, slots ? (*slots)[head].generation : std::uint16_t{0}, count});
        return true;
    }
    void recycle_rx(std::uint16_t bid) noexcept override { rx.give_back(bid); }

    void reserve(std::size_t n) { sends.reserve(n); }

    Lent rx;                                 // receive buffers
    const daemon::TxSlots* slots = nullptr;  // the datapath's, for each send's generation
    std::vector<Send> sends;                 // every sendmsg started, in order
    std::size_t completed = 0;               // sends[0, completed) have had their completion
    bool refuse = false;                     // send_udp() returns false
};

// The UDP_SEGMENT size a send's control messages ask for, or 0.
inline std::uint16_t udp_segment_of(const msghdr& m) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) {
            std::uint16_t v = 0;
            std::memcpy(&v, CMSG_DATA(c), sizeof v);
            return v;
        }
    }
    return 0;
}

// The datagrams of one sendmsg: its iovecs as they lie, in order.
inline std::vector<Bytes> datagrams_of(const msghdr& m) {
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < m.msg_iovlen; ++i) {
        const auto* p = static_cast<const std::uint8_t*>(m.msg_iov[i].iov_base);
        out.emplace_back(p, p + m.msg_iov[i].iov_len);
    }
    return out;
}

// Copies the payload of one sendmsg into `out` as UDP GRO would deliver it (the datagrams
// back to back); returns its length.
inline std::size_t gather(const msghdr& m, std::span<std::uint8_t> out) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < m.msg_iovlen; ++i) {
        const iovec& v = m.msg_iov[i];
        if (n + v.iov_len > out.size()) return 0;
        std::memcpy(out.data() + n, v.iov_base, v.iov_len);
        n += v.iov_len;
    }
    return n;
}

}  // namespace ringtun::test
