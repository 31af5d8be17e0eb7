// AllowedIps<T>: WireGuard's cryptokey routing table, a longest-prefix match from IPv4 and
// IPv6 prefixes to a value (the peer), one trie per family.
//
// The trie is binary and path-compressed, in the manner of the kernel's allowedips.c: every
// node holds a masked prefix; a node without a value is a branch point with two children.
// A prefix has at most one value: inserting it with another value moves it, as WireGuard
// does when two peers claim the same allowed IP (protocol notes, "Allowed IPs").
//
// Addresses are (family, network-order bytes): AF_INET takes 4 bytes, AF_INET6 16. lookup()
// runs per packet: it neither allocates nor throws. The rest is control path. Not
// thread-safe; the owner serialises access.
//
// The nodes of each value are also linked in a list of their own (the kernel's
// peer->allowedips_list), so that what concerns one peer — for_each(), remove_all() — costs
// its own prefixes, not a walk of the whole table: with 10,000 peers, `wg show` or a
// reconfiguration that replaces every peer's allowed IPs is linear, not quadratic.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ringtun::daemon {
namespace allowed_ips_detail {

// A 128-bit key, most significant bit first; IPv4 occupies the top 32 bits of `hi`.
struct Key {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    bool operator==(const Key&) const = default;
};

inline std::uint64_t load_be(const std::uint8_t* p, int n) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | p[i];
    return v;
}

inline Key load(int family, const std::uint8_t* bytes) noexcept {
    if (family == AF_INET) return Key{load_be(bytes, 4) << 32, 0};
    return Key{load_be(bytes, 8), load_be(bytes + 8, 8)};
}

inline void store(const Key& k, int family, std::uint8_t* out) noexcept {
    const int n = family == AF_INET ? 4 : 16;
    for (int i = 0; i < n; ++i) {
        const std::uint64_t word = i < 8 ? k.hi : k.lo;
        out[i] = static_cast<std::uint8_t>(word >> (56 - 8 * (i % 8)));
    }
}

// Keeps the first `cidr` bits (0..128).
inline Key masked(const Key& k, unsigned cidr) noexcept {
    if (cidr == 0) return Key{};
    if (cidr <= 64) return Key{k.hi & (~std::uint64_t{0} << (64 - cidr)), 0};
    return Key{k.hi, k.lo & (~std::uint64_t{0} << (128 - cidr))};
}

// Number of leading bits the keys share (0..128).
inline unsigned common_bits(const Key& a, const Key& b) noexcept {
    if (const std::uint64_t x = a.hi ^ b.hi; x != 0) return __builtin_clzll(x);
    if (const std::uint64_t y = a.lo ^ b.lo; y != 0) return 64 + __builtin_clzll(y);
    return 128;
}

// Bit `i` (0 = most significant), i < 128.
inline unsigned bit_at(const Key& k, unsigned i) noexcept {
    return i < 64 ? (k.hi >> (63 - i)) & 1 : (k.lo >> (127 - i)) & 1;
}

inline unsigned family_bits(int family) noexcept {
    return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

}  // namespace allowed_ips_detail

// T: a small copyable, equality-comparable, hashable handle (a Peer* or a peer index). `none`
// is the value lookup() returns when nothing matches; it cannot be inserted.
template <typename T>
class AllowedIps {
  public:
    explicit AllowedIps(T none = T{}) : none_(none) {}
    AllowedIps(AllowedIps&&) noexcept = default;
    AllowedIps& operator=(AllowedIps&&) noexcept = default;
    AllowedIps(const AllowedIps&) = delete;
    AllowedIps& operator=(const AllowedIps&) = delete;

    // Maps `bytes`/`cidr` (host bits ignored) to `value`, taking the prefix from any value
    // that held it. False, and nothing changes, for an unknown family, a cidr longer than
    // the family's address, or value == none.
    [[nodiscard]] bool insert(int family, const std::uint8_t* bytes, std::uint8_t cidr, T value);

    // Forgets the prefix; false if it was not present, or `held_by` is given and another
    // value holds it (then nothing changes).
    bool remove(int family, const std::uint8_t* bytes, std::uint8_t cidr,
                std::optional<T> held_by = std::nullopt);

    // Forgets every prefix mapped to `value` (peer removal); returns how many.
    std::size_t remove_all(T value);

    // The value of the longest prefix containing `addr`, or none.
    T lookup(int family, const std::uint8_t* addr) const noexcept;

    // Calls fn(int family, const uint8_t* bytes, uint8_t cidr) for each prefix of `value`,
    // IPv4 first, each family in address order. `bytes` is valid during the call only.
    template <typename F>
    void for_each(T value, F&& fn) const;

    std::size_t size() const noexcept { return size_; }
    T none() const noexcept { return none_; }
    void clear() noexcept {
        v4_.reset();
        v6_.reset();
        lists_.clear();
        size_ = 0;
    }

  private:
    using Key = allowed_ips_detail::Key;

    struct Node {
        Node(const Key& k, unsigned c, T v, bool has) : key(k), cidr(c), value(v), has_value(has) {}
        Key key;  // masked to cidr bits
        unsigned cidr;
        T value;
        bool has_value;
        int family = 0;             // with a value: AF_INET or AF_INET6
        Node* prev_same = nullptr;  // with a value: the list of `value`
        Node* next_same = nullptr;
        std::unique_ptr<Node> child[2];
    };
    using Slot = std::unique_ptr<Node>;

    // `n` (with its value set) joins its value's list, whose head `head` is (lists_[n->value],
    // made beforehand, so that this cannot fail); leaves it before its value changes.
    void link(Node* n, int family, Node*& head) noexcept;
    void unlink(Node* n) noexcept;

    // Prefix entry for remove_all().
    struct Entry {
        int family;
        Key key;
        unsigned cidr;
    };

    Slot& root(int family) noexcept { return family == AF_INET ? v4_ : v6_; }
    const Slot& root(int family) const noexcept { return family == AF_INET ? v4_ : v6_; }

    T none_;
    Slot v4_;
    Slot v6_;
    std::unordered_map<T, Node*> lists_;  // each value's first node
    std::size_t size_ = 0;
};

template <typename T>
void AllowedIps<T>::link(Node* n, int family, Node*& head) noexcept {
    n->family = family;
    n->prev_same = nullptr;
    n->next_same = head;
    if (head != nullptr) head->prev_same = n;
    head = n;
}

template <typename T>
void AllowedIps<T>::unlink(Node* n) noexcept {
    if (n->next_same != nullptr) n->next_same->prev_same = n->prev_same;
    if (n->prev_same != nullptr) {
        n->prev_same->next_same = n->next_same;
    } else if (n->next_same != nullptr) {
        lists_.find(n->value)->second = n->next_same;
    } else {
        lists_.erase(n->value);
    }
    n->prev_same = n->next_same = nullptr;
}

template <typename T>
bool AllowedIps<T>::insert(int family, const std::uint8_t* bytes, std::uint8_t cidr, T value) {
    using namespace allowed_ips_detail;
    if (family_bits(family) == 0 || cidr > family_bits(family) || value == none_) return false;
    const Key key = masked(load(family, bytes), cidr);

    Slot* slot = &root(family);
    while (*slot) {
        Node* n = slot->get();
        const unsigned common = common_bits(n->key, key);
        if (n->cidr > cidr || common < n->cidr) break;  // the new prefix belongs above `n`
        if (n->cidr == cidr) {
            if (n->has_value && n->value == value) return true;
            // The list's head before anything changes: the only step that may throw.
            Node*& head = lists_.try_emplace(value, nullptr).first->second;
            if (n->has_value)
                unlink(n);  // another value's list: `head` stays valid
            else
                ++size_;
            n->value = value;
            n->has_value = true;
            link(n, family, head);
            return true;
        }
        slot = &n->child[bit_at(key, n->cidr)];
    }

    // Everything that may throw first (the nodes, the list's head), then the placing, so that
    // a failed allocation leaves no node linked that the trie does not hold.
    auto fresh = std::make_unique<Node>(key, cidr, value, true);
    Node* const added = fresh.get();
    // `old` diverges from the new prefix at bit `split`: either the new prefix contains `old`
    // (split == cidr) or both hang below a new branch node at `split`.
    const unsigned split = *slot ? std::min<unsigned>(common_bits((*slot)->key, key), cidr) : cidr;
    Slot branch;
    if (*slot && split < cidr)
        branch = std::make_unique<Node>(masked(key, split), split, none_, false);
    Node*& head = lists_.try_emplace(value, nullptr).first->second;
    link(added, family, head);
    if (*slot) {
        Slot old = std::move(*slot);
        if (branch) {
            branch->child[bit_at(old->key, split)] = std::move(old);
            branch->child[bit_at(key, split)] = std::move(fresh);
            *slot = std::move(branch);
        } else {
            fresh->child[bit_at(old->key, cidr)] = std::move(old);
            *slot = std::move(fresh);
        }
    } else {
        *slot = std::move(fresh);
    }
    ++size_;
    return true;
}

template <typename T>
bool AllowedIps<T>::remove(int family, const std::uint8_t* bytes, std::uint8_t cidr,
                           std::optional<T> held_by) {
    using namespace allowed_ips_detail;
    if (family_bits(family) == 0 || cidr > family_bits(family)) return false;
    const Key key = masked(load(family, bytes), cidr);

    Slot* parent = nullptr;
    Slot* slot = &root(family);
    while (*slot && (*slot)->cidr < cidr && common_bits((*slot)->key, key) >= (*slot)->cidr) {
        parent = slot;
        slot = &(*slot)->child[bit_at(key, (*slot)->cidr)];
    }
    Node* n = slot->get();
    if (n == nullptr || n->cidr != cidr || !(n->key == key) || !n->has_value) return false;
    if (held_by && n->value != *held_by) return false;

    unlink(n);
    n->has_value = false;
    n->value = none_;
    --size_;
    // Keep the invariant: a node without a value has exactly two children.
    if (n->child[0] && n->child[1]) return true;
    Slot only = std::move(n->child[n->child[0] ? 0 : 1]);
    *slot = std::move(only);  // destroys `n`
    if (*slot || parent == nullptr) return true;
    Node* p = parent->get();
    if (p->has_value) return true;
    Slot sibling = std::move(p->child[p->child[0] ? 0 : 1]);
    *parent = std::move(sibling);  // destroys the branch node `p`
    return true;
}

template <typename T>
std::size_t AllowedIps<T>::remove_all(T value) {
    std::vector<Entry> doomed;
    const auto head = lists_.find(value);
    for (Node* n = head == lists_.end() ? nullptr : head->second; n; n = n->next_same)
        doomed.push_back(Entry{n->family, n->key, n->cidr});
    std::uint8_t bytes[16];
    for (const Entry& e : doomed) {
        allowed_ips_detail::store(e.key, e.family, bytes);
        remove(e.family, bytes, static_cast<std::uint8_t>(e.cidr));
    }
    return doomed.size();
}

template <typename T>
T AllowedIps<T>::lookup(int family, const std::uint8_t* addr) const noexcept {
    using namespace allowed_ips_detail;
    const unsigned bits = family_bits(family);
    if (bits == 0) return none_;
    const Key key = load(family, addr);

    T best = none_;
    const Node* n = root(family).get();
    while (n != nullptr && common_bits(n->key, key) >= n->cidr) {
        if (n->has_value) best = n->value;
        if (n->cidr == bits) break;
        n = n->child[bit_at(key, n->cidr)].get();
    }
    return best;
}

template <typename T>
template <typename F>
void AllowedIps<T>::for_each(T value, F&& fn) const {
    std::vector<const Node*> nodes;
    const auto head = lists_.find(value);
    for (const Node* n = head == lists_.end() ? nullptr : head->second; n; n = n->next_same)
        nodes.push_back(n);
    // The order of a walk of the tries: IPv4 first, then by address, a prefix before the
    // longer ones inside it.
    std::sort(nodes.begin(), nodes.end(), [](const Node* a, const Node* b) {
        if (a->family != b->family) return a->family == AF_INET;
        if (a->key.hi != b->key.hi) return a->key.hi < b->key.hi;
        if (a->key.lo != b->key.lo) return a->key.lo < b->key.lo;
        return a->cidr < b->cidr;
    });
    std::uint8_t bytes[16];
    for (const Node* n : nodes) {
        allowed_ips_detail::store(n->key, n->family, bytes);
        fn(n->family, static_cast<const std::uint8_t*>(bytes), static_cast<std::uint8_t>(n->cidr));
    }
}

}  // namespace ringtun::daemon
