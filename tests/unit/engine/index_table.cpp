// IndexTable: unique nonzero indices under scripted (and colliding) random sources.
#include "daemon/engine/index_table.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using ringtun::daemon::IndexTable;

// Returns the scripted values in order, then repeats the last one forever.
class Script {
  public:
    explicit Script(std::vector<std::uint32_t> values) : values_(std::move(values)) {}
    std::uint32_t operator()() {
        ++calls_;
        const std::uint32_t v = values_[next_];
        if (next_ + 1 < values_.size()) ++next_;
        return v;
    }
    int calls() const { return calls_; }

  private:
    std::vector<std::uint32_t> values_;
    std::size_t next_ = 0;
    int calls_ = 0;
};

enum class Kind { handshake, keypair };

struct Entry {
    Kind kind;
    int peer;
};

}  // namespace

TEST_CASE("index_table: a repeated draw is skipped, not reused") {
    IndexTable<std::string> t;
    Script random({7, 7, 7, 9});
    CHECK(t.insert("a", random) == 7);
    CHECK(t.insert("b", random) == 9);
    CHECK(random.calls() == 4);
    REQUIRE(t.lookup(7) != nullptr);
    REQUIRE(t.lookup(9) != nullptr);
    CHECK(*t.lookup(7) == "a");
    CHECK(*t.lookup(9) == "b");
    CHECK(t.size() == 2);
}

TEST_CASE("index_table: 0 is never handed out") {
    IndexTable<int> t;
    Script random({0, 0, 5});
    CHECK(t.insert(1, random) == 5);
    CHECK(t.lookup(0) == nullptr);
}

TEST_CASE("index_table: a constant source still yields distinct indices") {
    IndexTable<int> t;
    Script constant({42});
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 100; ++i) {
        const std::uint32_t index = t.insert(i, constant);
        CHECK(index != 0);
        seen.insert(index);
    }
    CHECK(seen.size() == 100);
    CHECK(seen.count(42) == 1);
    CHECK(t.size() == 100);

    // The fallback scan wraps past the top of the range, skipping 0.
    IndexTable<int> top;
    Script max({0xffffffffu});
    CHECK(top.insert(1, max) == 0xffffffffu);
    CHECK(top.insert(2, max) == 1u);
}

TEST_CASE("index_table: remove frees the index for reuse") {
    IndexTable<int> t;
    Script random({7});
    const std::uint32_t index = t.insert(10, random);
    CHECK(index == 7);
    CHECK(t.remove(index));
    CHECK(t.lookup(index) == nullptr);
    CHECK(t.size() == 0);
    CHECK_FALSE(t.remove(index));
    CHECK(t.insert(11, random) == 7);
    REQUIRE(t.lookup(7) != nullptr);
    CHECK(*t.lookup(7) == 11);
}

TEST_CASE("index_table: unknown indices find nothing") {
    IndexTable<Entry> t;
    CHECK(t.lookup(1) == nullptr);
    Script random({1000});
    CHECK(t.insert(Entry{Kind::handshake, 3}, random) == 1000);
    CHECK(t.lookup(999) == nullptr);
    CHECK(t.lookup(1001) == nullptr);
    const IndexTable<Entry>& view = t;
    REQUIRE(view.lookup(1000) != nullptr);
    CHECK(view.lookup(1000)->peer == 3);
}

TEST_CASE("index_table: replace changes what an index names") {
    IndexTable<Entry> t;
    Script random({55});
    const std::uint32_t index = t.insert(Entry{Kind::handshake, 1}, random);
    CHECK(t.replace(index, Entry{Kind::keypair, 1}));
    REQUIRE(t.lookup(index) != nullptr);
    CHECK(t.lookup(index)->kind == Kind::keypair);
    CHECK_FALSE(t.replace(index + 1, Entry{Kind::keypair, 2}));
    CHECK(t.lookup(index + 1) == nullptr);
    CHECK(t.size() == 1);
}

TEST_CASE("index_table: many random inserts and removals stay consistent") {
    IndexTable<int> t;
    std::mt19937 rng(99);
    // A narrow range forces frequent collisions.
    auto narrow = [&rng] { return static_cast<std::uint32_t>(rng() % 8192); };
    std::vector<std::uint32_t> indices;
    for (int i = 0; i < 4000; ++i)
        indices.push_back(t.insert(i, narrow));
    CHECK(std::set<std::uint32_t>(indices.begin(), indices.end()).size() == 4000);

    for (int i = 0; i < 4000; i += 2)
        CHECK(t.remove(indices[i]));
    CHECK(t.size() == 2000);
    int wrong = 0;
    for (int i = 0; i < 4000; ++i) {
        const int* v = t.lookup(indices[i]);
        if (i % 2 == 0 ? v != nullptr : (v == nullptr || *v != i)) ++wrong;
    }
    CHECK(wrong == 0);
}
