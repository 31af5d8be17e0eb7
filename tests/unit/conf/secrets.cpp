// Secrets in the config: SecretText, key files, and the rule that neither a key file nor a
// config file holding an inline key may be accessible by others, nor by its group unless root
// owns it (and then only to read).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <ostream>
#include <type_traits>
#include <variant>
#include <vector>

#include "conf/load.hpp"
#include "temp_dir.hpp"

namespace ringtun::conf {
namespace {

static_assert(!std::is_copy_constructible_v<SecretText>);
static_assert(!std::is_copy_assignable_v<SecretText>);
static_assert(std::is_nothrow_move_constructible_v<SecretText>);
template <typename T>
concept Printable = requires(std::ostream& os, const T& t) {
    os << t;
};
static_assert(!Printable<SecretText>, "secret text must not be printable");
static_assert(!Printable<KeyText>);

constexpr std::string_view key_a = "cHJpdmF0ZS1rZXktZm9yLXVuaXQtdGVzdHMtb25seSE=";

// The files the test writes are its own: root's when it runs as root.
bool files_are_roots() {
    return ::geteuid() == 0;
}

// What load() says of `path`, `what` ("holds a secret key and ") mode `mode`.
std::string permission_error(const std::string& path, mode_t mode, std::string_view what = {}) {
    char octal[8];
    snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    return path + " " + std::string(what) + "is accessible by group or others (mode " + octal +
           "); run: chmod 600 " + path + " (or, owned by root, chmod 640 " + path +
           " for the daemon's group: see ringtun.toml(5))";
}

std::string error_of(const std::string& path) {
    auto result = load(path);
    if (const auto* e = std::get_if<Error>(&result)) return e->to_string();
    return "(loaded without error)";
}

// error_of(), but a load that blocks (e.g. in open() of a FIFO nobody writes) ends the whole
// test program with a message after 5 s instead of hanging it: the stuck thread cannot be
// joined, and the future's destructor would wait for it.
std::string error_of_within_5s(const std::string& path) {
    auto pending = std::async(std::launch::async, [path] { return error_of(path); });
    if (pending.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
        return pending.get();
    }
    std::fprintf(stderr, "FAIL: conf::load(\"%s\") still blocked after 5 s\n", path.c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

TEST_CASE("conf: SecretText gives up its bytes on move and truncates") {
    SecretText a("secret");
    CHECK(a.view() == "secret");
    SecretText b(std::move(a));
    CHECK(b.view() == "secret");
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    CHECK(a.view().empty());
    SecretText c("other");
    c = std::move(b);
    CHECK(c.view() == "secret");
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
    c.truncate(3);
    CHECK(c.view() == "sec");
    c.truncate(10);  // never grows
    CHECK(c.view() == "sec");
    SecretText z = SecretText::zeroed(4);
    CHECK(z.view() == std::string_view("\0\0\0\0", 4));
}

TEST_CASE("conf: a config with an inline key must be private to its owner") {
    test::TempDir dir;
    const std::string text = "[interface]\nprivate_key = \"" + std::string(key_a) + "\"\n";
    std::vector<mode_t> refused{0604, 0610, 0601, 0620, 0660};
    if (!files_are_roots()) refused.push_back(0640);
    for (mode_t mode : refused) {
        CAPTURE(mode);
        const std::string path = dir.write("rt.toml", text, mode);
        CHECK(error_of(path) == path + ":2:15: interface.private_key: " +
                                    permission_error(path, mode, "holds a secret key and "));
    }
    CHECK(error_of(dir.write("rt.toml", text, 0400)) == "(loaded without error)");

    const std::string psk = dir.write("psk.toml",
                                      "[interface]\nprivate_key_file = \"rt.key\"\n"
                                      "[[peer]]\npublic_key = \"cHVi\"\npreshared_key = \"cHNr\"\n",
                                      0644);
    dir.write("rt.key", key_a, 0600);
    CHECK(error_of(psk) == psk + ":5:17: peer[1].preshared_key: " +
                               permission_error(psk, 0644, "holds a secret key and "));
}

TEST_CASE("conf: a file root owns may be read by its group, and only then") {
    if (!files_are_roots()) {
        MESSAGE("not root: the files cannot be root's, test skipped");
        return;
    }
    test::TempDir dir;
    const std::string key = dir.write("rt.key", key_a, 0640);
    const std::string inline_key = dir.write(
        "inline.toml", "[interface]\nprivate_key = \"" + std::string(key_a) + "\"\n", 0640);
    const std::string naming =
        dir.write("rt.toml", "[interface]\nprivate_key_file = \"" + key + "\"\n", 0640);
    CHECK(error_of(inline_key) == "(loaded without error)");
    CHECK(error_of(naming) == "(loaded without error)");
    // Another owner (nobody's uid) may not share it with its group.
    REQUIRE(::chown(key.c_str(), 65534, 65534) == 0);
    REQUIRE(::chown(inline_key.c_str(), 65534, 65534) == 0);
    CHECK(error_of(naming) ==
          naming + ":2:20: interface.private_key_file: " + permission_error(key, 0640));
    CHECK(error_of(inline_key) ==
          inline_key + ":2:15: interface.private_key: " +
              permission_error(inline_key, 0640, "holds a secret key and "));
}

TEST_CASE("conf: keys read from files") {
    test::TempDir dir;
    const std::string key_path = dir.write("rt0.key", "\n  " + std::string(key_a) + " \n", 0600);
    const std::string psk_path = dir.write("peer.psk", "cHNr\n", 0400);
    // Key files keep secrets out of the config, so the config itself may be world-readable.
    const std::string path = dir.write("rt.toml",
                                       "[interface]\nprivate_key_file = \"" + key_path +
                                           "\"\n[[peer]]\npublic_key = \"cHVi\"\n"
                                           "preshared_key_file = \"peer.psk\"\n",
                                       0644);
    auto result = load(path);
    REQUIRE(std::holds_alternative<Config>(result));
    const Config& c = std::get<Config>(result);
    const KeyText& key = c.interface.private_key;
    CHECK(key.base64.view() == key_a);  // surrounding whitespace trimmed
    CHECK(key.source_file == key_path);
    CHECK(key.field == "interface.private_key_file");
    CHECK(key.where.file == path);
    CHECK(key.where.line == 2);
    CHECK(key.where.column == 20);
    REQUIRE(c.peers.size() == 1);
    REQUIRE(c.peers[0].preshared_key.has_value());
    CHECK(c.peers[0].preshared_key->base64.view() == "cHNr");
    CHECK(c.peers[0].preshared_key->source_file == psk_path);  // relative to the config's dir
    CHECK(c.peers[0].preshared_key->field == "peer[1].preshared_key_file");
}

TEST_CASE("conf: key file problems") {
    test::TempDir dir;
    const auto config_naming = [&](const std::string& key_file) {
        return dir.write("rt.toml", "[interface]\nprivate_key_file = \"" + key_file + "\"\n");
    };
    const std::string prefix_of_error = ":2:20: interface.private_key_file: ";

    const std::string missing = dir.file("missing.key");
    std::string path = config_naming(missing);
    CHECK(error_of(path) ==
          path + prefix_of_error + "cannot open " + missing + ": No such file or directory");

    std::vector<mode_t> refused{0604, 0660, 0644, 0610, 0601, 0602, 0650};
    if (!files_are_roots()) refused.push_back(0640);
    for (mode_t mode : refused) {
        CAPTURE(mode);
        const std::string key = dir.write("open.key", key_a, mode);
        path = config_naming(key);
        CHECK(error_of(path) == path + prefix_of_error + permission_error(key, mode));
    }

    for (std::string_view contents : {"", " \n\t\n"}) {
        const std::string empty = dir.write("empty.key", contents, 0600);
        path = config_naming(empty);
        CHECK(error_of(path) ==
              path + prefix_of_error + empty + " is empty (expected a base64 key)");
    }

    const std::string big = dir.write("big.key", std::string(4097, 'A'), 0600);
    path = config_naming(big);
    CHECK(error_of(path) ==
          path + prefix_of_error + big + " is larger than ringtun's limit of 4 KiB for a key file");

    path = config_naming(dir.path());
    CHECK(error_of(path) == path + prefix_of_error + dir.path() + " is not a regular file");

    path = config_naming("");
    CHECK(error_of(path) == path + prefix_of_error + "the path is empty");
}

// open() of a FIFO without a writer blocks; a key file or config that is one must be refused
// at once, as any other file that is not a regular file.
TEST_CASE("conf: a FIFO as key file, preshared key file or config is refused without blocking") {
    test::TempDir dir;
    const std::string fifo = dir.file("fifo");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);

    std::string path = dir.write("key.toml", "[interface]\nprivate_key_file = \"fifo\"\n");
    CHECK(error_of_within_5s(path) ==
          path + ":2:20: interface.private_key_file: " + fifo + " is not a regular file");

    path = dir.write("psk.toml", "[interface]\nprivate_key = \"" + std::string(key_a) +
                                     "\"\n[[peer]]\npublic_key = \"cHVi\"\n"
                                     "preshared_key_file = \"fifo\"\n");
    CHECK(error_of_within_5s(path) ==
          path + ":5:22: peer[1].preshared_key_file: " + fifo + " is not a regular file");

    CHECK(error_of_within_5s(fifo) == fifo + ": not a regular file");
}

TEST_CASE("conf: load_text checks the mode it is given and reads key files through the seam") {
    const std::string inline_key = "[interface]\nprivate_key = \"" + std::string(key_a) + "\"\n";
    auto shared =
        load_text(FileText{SecretText(inline_key), S_IFREG | 0644, 0}, "/etc/ringtun/rt0.toml");
    REQUIRE(std::holds_alternative<Error>(shared));
    CHECK(std::get<Error>(shared).to_string().find("chmod 600 /etc/ringtun/rt0.toml") !=
          std::string::npos);
    CHECK(std::holds_alternative<Config>(
        load_text(FileText{SecretText(inline_key), S_IFREG | 0600, 0}, "/etc/ringtun/rt0.toml")));

    // The key file is asked of read_key_file, with its path resolved against the name given.
    std::vector<std::string> asked;
    LoadOptions options;
    options.read_key_file = [&](const std::string& path, std::size_t) {
        asked.push_back(path);
        return std::variant<FileText, FileFailure>(FileText{SecretText(" cHNr\n"), S_IFREG | 0600});
    };
    auto result = load_text(
        FileText{SecretText("[interface]\nprivate_key_file = \"rt0.key\"\n"), S_IFREG | 0644, 0},
        "/etc/ringtun/rt0.toml", options);
    REQUIRE(std::holds_alternative<Config>(result));
    CHECK(std::get<Config>(result).interface.private_key.base64.view() == "cHNr");
    CHECK(asked == std::vector<std::string>{"/etc/ringtun/rt0.key"});
    options.read_key_file = [](const std::string&, std::size_t) {
        return std::variant<FileText, FileFailure>(FileFailure{FileFailure::Kind::open, ENOENT});
    };
    auto missing = load_text(
        FileText{SecretText("[interface]\nprivate_key_file = \"/k\"\n"), S_IFREG | 0600, 0},
        "rt.toml", options);
    REQUIRE(std::holds_alternative<Error>(missing));
    CHECK(std::get<Error>(missing).to_string() ==
          "rt.toml:2:20: interface.private_key_file: cannot open /k: No such file or directory");
}

}  // namespace
}  // namespace ringtun::conf
