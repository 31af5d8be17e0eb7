// `ringtun tune`'s output without a host: CSV quoting, the SVG's well-formedness and escaping
// (checked by a small XML reader here; netns.tune also parses a real one with Python), the
// table and the recommended section.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/cli/tune/csv.hpp"
#include "daemon/cli/tune/report.hpp"
#include "daemon/cli/tune/svg.hpp"

using namespace ringtun;
using namespace ringtun::daemon::tune;

namespace {

std::vector<Outcome> sweep() {
    std::vector<Outcome> v(4);
    v[0].point.defaults = true;
    v[0].figures = Figures{2.5, 3.0, 150, 55};
    v[1].point.ring.backend = conf::Backend::epoll;
    v[1].figures = Figures{2.0, 3.5, 120, 60};
    v[2].point.ring.tun_read = conf::TunRead::slots;
    v[2].point.skip = "refused: \"slots\" <needs> & more,\nsecond line";
    v[3].point.ring.tx_slots = 1024;
    v[3].figures = Figures{3.0, 2.9, 160, 50};
    return v;
}

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
        ++n;
    return n;
}

// Checks that `doc` is well-formed XML as far as this writer goes: one root element, tags
// nested and closed, attribute values quoted, no '<' or bare '&' in text or attributes, no
// control characters. Returns the first problem, or empty.
std::string xml_problem(const std::string& doc) {
    std::vector<std::string> open;
    std::size_t i = 0, roots = 0;
    if (doc.starts_with("<?xml")) i = doc.find("?>") + 2;
    while (i < doc.size()) {
        if (doc[i] != '<') {
            const std::size_t end = doc.find('<', i);
            const std::string text = doc.substr(i, end - i);
            for (std::size_t k = 0; k < text.size(); ++k) {
                const auto c = static_cast<unsigned char>(text[k]);
                if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return "control character";
                if (c == '&' && text.find(';', k) == std::string::npos) return "bare &";
                if (c == '>') return "'>' in text";
            }
            if (open.empty() && text.find_first_not_of(" \n") != std::string::npos)
                return "text outside the root";
            i = end;
            continue;
        }
        const std::size_t close = doc.find('>', i);
        if (close == std::string::npos) return "unterminated tag";
        std::string tag = doc.substr(i + 1, close - i - 1);
        if (count(tag, "\"") % 2 != 0) return "unbalanced quotes in <" + tag + ">";
        if (tag.find('<') != std::string::npos) return "'<' in a tag";
        i = close + 1;
        if (tag.starts_with("/")) {
            if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag + ">";
            open.pop_back();
            continue;
        }
        const std::string name = tag.substr(0, tag.find_first_of(" /"));
        if (open.empty() && ++roots > 1) return "second root <" + name + ">";
        if (!tag.ends_with("/")) open.push_back(name);
    }
    return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

}  // namespace

TEST_CASE("csv_field quotes what RFC 4180 says must be quoted") {
    CHECK(csv_field("tx_slots = 1024") == "tx_slots = 1024");
    CHECK(csv_field("a,b") == "\"a,b\"");
    CHECK(csv_field("tun_read = \"slots\"") == "\"tun_read = \"\"slots\"\"\"");
    CHECK(csv_field("two\nlines") == "\"two\nlines\"");
    CHECK(csv_field("") == "");
}

TEST_CASE("the CSV: a header, a row per point, empty figures where none") {
    const std::string csv = sweep_csv(sweep());
    CHECK(csv.starts_with(
        "point,status,throughput_gbit_s,cpu_s_per_gb,capacity_kpps,rtt_median_us,note\r\n"));
    CHECK(count(csv, "\r\n") == 5);  // the skip reason's own line break is quoted, not a row
    CHECK(csv.find("defaults,measured,2.500,3.000,150.0,55,\r\n") != std::string::npos);
    CHECK(csv.find("\"backend = \"\"epoll\"\"\",measured,2.000,3.500,120.0,60,") !=
          std::string::npos);
    CHECK(csv.find(",skipped,,,,,\"refused: \"\"slots\"\" <needs> & more,\nsecond line\"\r\n") !=
          std::string::npos);
}

TEST_CASE("xml_escape") {
    CHECK(xml_escape("a < b & \"c\" > 'd'") == "a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;");
    CHECK(xml_escape(std::string("bell\x07 tab\t", 10)) == "bell? tab\t");
}

TEST_CASE("the SVG is one well-formed document with every measured point and the labels escaped") {
    std::vector<Outcome> v = sweep();
    const auto choice = choose(v);
    const std::string svg = sweep_svg(v, choice, "ringtun tune: <host> & \"kernel\"", "sub\x01");
    CHECK(xml_problem(svg) == "");
    CHECK(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
    CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(count(svg, "<rect x=") == 3 + 3);  // three bars, three legend squares
    CHECK(svg.find("backend = &quot;epoll&quot;") != std::string::npos);
    CHECK(svg.find("&lt;host&gt; &amp; &quot;kernel&quot;") != std::string::npos);
    CHECK(svg.find("throughput, Gbit/s") != std::string::npos);
    CHECK(svg.find("CPU seconds per GB") != std::string::npos);
    REQUIRE(choice);
    CHECK(!choice->keep_defaults);
    CHECK(svg.find("#59a14f") != std::string::npos);  // the recommendation's colour
}

TEST_CASE("the SVG of a sweep that measured nothing is still well-formed") {
    std::vector<Outcome> v(1);
    v[0].point.defaults = true;
    v[0].point.skip = "interrupted";
    const std::string svg = sweep_svg(v, std::nullopt, "t", "s");
    CHECK(xml_problem(svg) == "");
    CHECK(svg.find("no point was measured") != std::string::npos);
}

TEST_CASE("the table: a row per point, skips and failures said") {
    std::vector<Outcome> v = sweep();
    v[1].note = "ineligible: RTT +20.0% against the defaults";
    Outcome failed;
    failed.point.ring.entries = 4096;
    failed.note = "ringtun run in ns: exited";
    v.push_back(failed);
    const std::string t = sweep_table(v);
    CHECK(count(t, "\n") == 6);  // the skip reason's line break is not a row
    CHECK(t.find("  1  defaults ") != std::string::npos);
    CHECK(t.find("baseline") != std::string::npos);
    CHECK(t.find("skipped: refused") != std::string::npos);
    CHECK(t.find("failed: ringtun run in ns: exited") != std::string::npos);
    CHECK(t.find("   2.50      3.00      150.0      55") != std::string::npos);
}

TEST_CASE("the recommendation: comments with the figures, then the section to paste") {
    std::vector<Outcome> v = sweep();
    const auto choice = choose(v);
    const std::string r = recommendation(v, choice, "ringtun tune: here");
    CHECK(r.starts_with("# ringtun tune: here\n# the defaults: 2.50 Gbit/s"));
    CHECK(r.ends_with("\n[ring]\ntx_slots = 1024\n"));
    CHECK(r.find("# noise: unknown (the defaults ran once)\n") != std::string::npos);
    CHECK(r.find("#   throughput        3.00 Gbit/s   defaults 2.50      +20.0%") !=
          std::string::npos);
    // Every line before the section is a TOML comment.
    const std::string head = r.substr(0, r.find("[ring]"));
    for (std::size_t at = 0; at < head.size(); at = head.find('\n', at) + 1)
        CHECK(head[at] == '#');
}

TEST_CASE("the recommendation when the defaults win, and when they were not measured") {
    std::vector<Outcome> v = sweep();
    v[3].figures->gbit_s = 2.4;
    std::optional<Choice> choice = choose(v);
    REQUIRE(choice);
    CHECK(recommendation(v, choice, "c")
              .ends_with("# keep the defaults: " + choice->why + "\n[ring]\n"));
    v[0].figures.reset();
    choice = choose(v);
    CHECK(!choice);
    const std::string none = recommendation(v, choice, "c");
    CHECK(none.find("[ring]") == std::string::npos);
    CHECK(none.find("no recommendation") != std::string::npos);
}
