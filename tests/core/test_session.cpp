// Results and `.mscope` session files: round trips, the documented HDF5 layout, clear errors for
// bad files, and saves that survive being killed half-way.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <regex>
#include <thread>

#include "core/session/checking_process.h"
#include "core/session/h5.h"
#include "core/session/session.h"
#include "core/session/session_integrity.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

using namespace mechscope;
namespace fs = std::filesystem;

namespace {

/// An array of `shape` with values from `value(i)` and the given axes.
Array make_array(
    std::vector<int64_t> shape, std::vector<Axis> axes,
    float (*value)(int64_t) = [](int64_t i) { return 0.25f * float(i) - 3.0f; }) {
  Array a;
  a.shape = std::move(shape);
  a.axes = std::move(axes);
  a.data.resize(static_cast<size_t>(a.numel()));
  for (int64_t i = 0; i < a.numel(); ++i) a.data[size_t(i)] = value(i);
  return a;
}

/// Deterministic noise: compresses badly, so writing it takes a while.
float noise(int64_t i) {
  uint64_t x = uint64_t(i) * 0x9E3779B97F4A7C15ull + 1;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return float(x % 100000) / 1000.0f;
}

/// A session exercising every part of the format: unicode token labels, empty labels, axes
/// without labels, 0-d, 1-d and 4-d arrays, an empty array, a big compressed array, results whose
/// ids do not sort in creation order.
Session sample_session() {
  Session s;
  s.model = {{"path", "/models/gpt2"}, {"name", "gpt2"}, {"family", "gpt2"}, {"hash", "ab12"}};
  s.prompts = {{"When Mary and John went to the store, John gave a drink to", "", " Mary"},
               {"Café crème — naïve", "Café noir — naïve", "é"}};
  s.views = {{"workbench", {{"selected", "zeta-1"}}},
             {"results", {{"zeta-1", {{"layer", 1}, {"head", 2}, {"zoom", 1.5}}}}}};

  Result attention;
  attention.id = "zeta-1";  // sorts after "alpha-1" but was made first
  attention.probe = "attention";
  attention.title = "Attention — When Mary…";
  const std::vector<std::string> tokens = {"<s>", "é", " Mary", "\n"};
  attention.arrays["pattern"] = make_array(
      {2, 3, 4, 4},
      {{"layer", {"L0", "L1"}}, {"head", {"H0", "H1", "H2"}}, {"query", tokens}, {"key", tokens}});
  attention.meta = {{"probe", "attention"},
                    {"inputs", {{"prompt", "é Mary"}, {"tokens", {1, 2, 3}}}},
                    {"created", "2026-01-02T03:04:05Z"}};

  Result scores;
  scores.id = "alpha-1";
  scores.probe = "head_scores";
  scores.title = "";
  scores.arrays["scores"] = make_array({5}, {{"head", {}}});
  scores.arrays["empty"] = make_array({0}, {{"item", {}}});
  scores.arrays["scalar"] = make_array({}, {});
  scores.arrays["named"] = make_array({3, 2}, {{"row", {"", "b", ""}}, {"col", {"x", "y"}}});

  Result big;
  big.id = "big-1";
  big.probe = "plugin.big";
  std::vector<std::string> rows;
  for (int i = 0; i < 64; ++i) rows.push_back(i % 7 == 0 ? "" : "row " + std::to_string(i));
  big.arrays["values"] = make_array({64, 1024}, {{"row", rows}, {"col", {}}}, noise);

  s.results = {attention, scores, big};
  return s;
}

void check_same_array(const Array& a, const Array& b) {
  CHECK(a.shape == b.shape);
  CHECK(a.data == b.data);  // bit-exact: float32 in, float32 out
  REQUIRE(a.axes.size() == b.axes.size());
  for (size_t i = 0; i < a.axes.size(); ++i) {
    CHECK(a.axes[i].name == b.axes[i].name);
    CHECK(a.axes[i].labels == b.axes[i].labels);
  }
}

void check_same_session(const Session& a, const Session& b) {
  CHECK(a.model == b.model);
  CHECK(a.views == b.views);
  REQUIRE(a.prompts.size() == b.prompts.size());
  for (size_t i = 0; i < a.prompts.size(); ++i) {
    CHECK(a.prompts[i].text == b.prompts[i].text);
    CHECK(a.prompts[i].corrupt == b.prompts[i].corrupt);
    CHECK(a.prompts[i].answer == b.prompts[i].answer);
  }
  REQUIRE(a.results.size() == b.results.size());
  for (size_t i = 0; i < a.results.size(); ++i) {
    const Result& ra = a.results[i];
    const Result& rb = b.results[i];
    CHECK(ra.id == rb.id);
    CHECK(ra.probe == rb.probe);
    CHECK(ra.title == rb.title);
    CHECK(ra.meta == rb.meta);
    REQUIRE(ra.arrays.size() == rb.arrays.size());
    for (const auto& [name, array] : ra.arrays) {
      INFO("result " << ra.id << " array " << name);
      REQUIRE(rb.arrays.count(name) == 1);
      check_same_array(array, rb.arrays.at(name));
    }
  }
}

/// A fresh scratch folder for one test.
fs::path scratch_folder(const std::string& name) {
  const fs::path dir = test::scratch_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// The message load_session throws for `path`.
std::string load_error(const fs::path& path) {
  try {
    load_session(path);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("load_session accepted " << path);
  return "";
}

}  // namespace

TEST_CASE("Array and Result: indexing, lookup and validation", "[session]") {
  Array a = make_array({2, 3, 4}, {{"a", {}}, {"b", {"x", "y", "z"}}, {"c", {}}});
  CHECK(a.numel() == 24);
  CHECK(a.at({1, 2, 3}) == a.data[23]);
  CHECK(a.at({0, 1, 2}) == a.data[6]);
  CHECK_NOTHROW(a.validate("a"));

  Array wrong_data = a;
  wrong_data.data.pop_back();
  CHECK_THROWS_WITH(wrong_data.validate("Array 'p'"),
                    "Array 'p' has 23 values but its shape [2, 3, 4] needs 24.");
  Array wrong_axes = a;
  wrong_axes.axes.pop_back();
  CHECK_THROWS_WITH(wrong_axes.validate("x"), Catch::Contains("2 axes but its shape"));
  Array wrong_labels = a;
  wrong_labels.axes[1].labels.pop_back();
  CHECK_THROWS_WITH(wrong_labels.validate("x"), "x has 2 labels on axis 'b' of length 3.");
  Array same_names = a;
  same_names.axes[2].name = "a";
  CHECK_THROWS_WITH(same_names.validate("x"), Catch::Contains("two axes named 'a'"));

  Result r;
  r.probe = "attention";
  r.arrays["pattern"] = a;
  CHECK_THROWS_WITH(r.validate(), Catch::Contains("has no id"));
  r.id = "attention-1";
  CHECK_NOTHROW(r.validate());
  CHECK(&r.array("pattern") == &r.arrays.at("pattern"));
  CHECK_THROWS_WITH(r.array("scores"),
                    "Result 'attention-1' (attention) has no array named 'scores'.");
  r.arrays["bad"] = wrong_labels;
  CHECK_THROWS_WITH(r.validate(), Catch::Contains("Array 'bad' of result 'attention-1'"));

  CHECK(std::regex_match(iso_time_now(),
                         std::regex(R"(20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\dZ)")));
}

TEST_CASE("Session: find and fresh ids", "[session]") {
  Session s = sample_session();
  REQUIRE(s.find("alpha-1") != nullptr);
  CHECK(s.find("alpha-1")->probe == "head_scores");
  CHECK(s.find("nope") == nullptr);
  CHECK(s.next_id("attention") == "attention-1");  // no id starts with "attention-" yet
  CHECK(s.next_id("alpha") == "alpha-2");
  CHECK(s.next_id("probe") == "probe-1");
  s.results[1].id = "attention-2";  // a gap: one id of the probe, and the next number is taken
  CHECK(s.next_id("attention") == "attention-3");
  CHECK(next_result_id("attention", {"attention-1", "attention-3"}) == "attention-4");
}

TEST_CASE("a session round-trips exactly through a .mscope file", "[session]") {
  const fs::path path = scratch_folder("session_roundtrip") / "s.mscope";
  const Session original = sample_session();
  save_session(original, path);
  Session loaded = load_session(path);
  check_same_session(original, loaded);
  CHECK(loaded.results[0].id == "zeta-1");  // creation order, not name order

  // Saving what was loaded gives the same session again; no temporary file is left behind.
  save_session(loaded, path);
  check_same_session(original, load_session(path));
  int files = 0;
  for (const auto& entry : fs::directory_iterator(path.parent_path()))
    files += entry.is_regular_file();
  CHECK(files == 1);

  // An empty session is a valid session too.
  save_session(Session{}, path);
  Session empty = load_session(path);
  CHECK(empty.results.empty());
  CHECK(empty.prompts.empty());
  CHECK(empty.model == nlohmann::json::object());
}

TEST_CASE("the .mscope layout is the documented one", "[session]") {
  const fs::path path = scratch_folder("session_layout") / "s.mscope";
  save_session(sample_session(), path);
  h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.valid());
  const hid_t root = file.get();
  CHECK(h5::read_int_attribute(root, "format_version") == kSessionFormatVersion);
  CHECK(h5::read_string_attribute(root, "kind") == "mechscope-session");
  CHECK(h5::read_string_attribute(root, "mechscope_version") == MECHSCOPE_VERSION);
  CHECK(h5::has_attribute(root, "created"));
  h5::Id model = h5::open_group(root, "model");
  CHECK(nlohmann::json::parse(h5::read_string_attribute(model.get(), "json"))["name"] == "gpt2");
  h5::Id views = h5::open_group(root, "views");
  CHECK(nlohmann::json::parse(
            h5::read_string_attribute(views.get(), "json"))["workbench"]["selected"] == "zeta-1");
  h5::Id prompts = h5::open_group(root, "prompts");
  CHECK(nlohmann::json::parse(h5::read_string_attribute(prompts.get(), "json"))[1]["answer"] ==
        "é");

  h5::Id results = h5::open_group(root, "results");
  CHECK(h5::child_names(results.get()) == std::vector<std::string>{"alpha-1", "big-1", "zeta-1"});
  h5::Id zeta = h5::open_group(results.get(), "zeta-1");
  CHECK(h5::read_string_attribute(zeta.get(), "probe") == "attention");
  CHECK(h5::read_string_attribute(zeta.get(), "title") == "Attention — When Mary…");
  CHECK(h5::read_int_attribute(zeta.get(), "order") == 0);
  CHECK(nlohmann::json::parse(h5::read_string_attribute(zeta.get(), "meta"))["probe"] ==
        "attention");
  h5::Id pattern(H5Dopen2(zeta.get(), "pattern", H5P_DEFAULT), H5Dclose);
  REQUIRE(pattern.valid());
  CHECK(h5::dataset_shape(pattern.get()) == std::vector<int64_t>{2, 3, 4, 4});
  h5::Id type(H5Dget_type(pattern.get()), H5Tclose);
  CHECK(H5Tequal(type.get(), H5T_IEEE_F32LE) > 0);
  CHECK(nlohmann::json::parse(h5::read_string_attribute(pattern.get(), "axes")) ==
        nlohmann::json({"layer", "head", "query", "key"}));
  CHECK(h5::read_string_list_attribute(pattern.get(), "labels_query") ==
        std::vector<std::string>{"<s>", "é", " Mary", "\n"});
  CHECK(h5::read_string_list_attribute(pattern.get(), "labels_layer") ==
        std::vector<std::string>{"L0", "L1"});
  // Labels are variable-length UTF-8 strings (h5py reads them as str).
  h5::Id labels(H5Aopen(pattern.get(), "labels_query", H5P_DEFAULT), H5Aclose);
  h5::Id label_type(H5Aget_type(labels.get()), H5Tclose);
  CHECK(H5Tis_variable_str(label_type.get()) > 0);
  CHECK(H5Tget_cset(label_type.get()) == H5T_CSET_UTF8);
  h5::Id alpha = h5::open_group(results.get(), "alpha-1");
  h5::Id scores(H5Dopen2(alpha.get(), "scores", H5P_DEFAULT), H5Dclose);
  CHECK_FALSE(h5::has_attribute(scores.get(), "labels_head"));  // no labels, no attribute

  // Small arrays are contiguous; the 256 KiB one is chunked and deflate-compressed.
  auto filters = [&](const char* group, const char* name) {
    h5::Id g = h5::open_group(results.get(), group);
    h5::Id ds(H5Dopen2(g.get(), name, H5P_DEFAULT), H5Dclose);
    h5::Id dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
    std::vector<int> ids;
    for (int i = 0; i < H5Pget_nfilters(dcpl.get()); ++i) {
      unsigned flags = 0;
      size_t n = 0;
      ids.push_back(
          H5Pget_filter2(dcpl.get(), unsigned(i), &flags, &n, nullptr, 0, nullptr, nullptr));
    }
    return std::make_pair(H5Pget_layout(dcpl.get()), ids);
  };
  CHECK(filters("zeta-1", "pattern").first == H5D_CONTIGUOUS);
  auto [layout, ids] = filters("big-1", "values");
  CHECK(layout == H5D_CHUNKED);
  CHECK(std::find(ids.begin(), ids.end(), H5Z_FILTER_DEFLATE) != ids.end());
}

TEST_CASE("big arrays are compressed", "[session]") {
  const fs::path path = scratch_folder("session_compress") / "s.mscope";
  Session s;
  Result r;
  r.id = "smooth-1";
  r.probe = "test";
  // 4 MiB of smooth values compress well.
  r.arrays["ramp"] = make_array({1024, 1024}, {{"a", {}}, {"b", {}}},
                                [](int64_t i) { return float(i / 1024) + 0.5f; });
  s.results.push_back(r);
  save_session(s, path);
  CHECK(fs::file_size(path) < 1024 * 1024);
  check_same_session(s, load_session(path));
}

TEST_CASE("long token-label lists fit (attributes over 64 KiB)", "[session]") {
  const fs::path path = scratch_folder("session_long_labels") / "s.mscope";
  std::vector<std::string> labels;
  for (int i = 0; i < 6000; ++i) labels.push_back(" token number " + std::to_string(i));
  Session s;
  Result r;
  r.id = "long-1";
  r.probe = "test";
  r.arrays["logit"] = make_array({6000}, {{"pos", labels}});
  s.results.push_back(r);
  save_session(s, path);
  check_same_session(s, load_session(path));
}

TEST_CASE("bad session files give one clear error naming the file", "[session]") {
  const fs::path dir = scratch_folder("session_bad");
  const fs::path missing = dir / "missing.mscope";
  CHECK(load_error(missing) ==
        "Cannot open the session " + missing.string() + ": the file does not exist.");

  const fs::path empty = dir / "empty.mscope";
  std::ofstream(empty).close();
  CHECK(load_error(empty) == "Cannot open the session " + empty.string() + ": the file is empty.");

  const fs::path text = dir / "text.mscope";
  std::ofstream(text) << "{\"not\": \"hdf5\"}\n";
  CHECK(load_error(text) == "Cannot open the session " + text.string() +
                                ": it is not an HDF5 file (a .mscope session is HDF5).");
  CHECK_THAT(load_error(dir), Catch::Contains("is a folder"));

  // A real session cut in half.
  const fs::path whole = dir / "whole.mscope";
  save_session(sample_session(), whole);
  const fs::path cut = dir / "cut.mscope";
  {
    std::ifstream in(whole, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  CHECK_THAT(load_error(cut), Catch::StartsWith("Cannot open the session " + cut.string() + ": ") &&
                                  Catch::Contains("(truncated)"));

  // HDF5, but not a session.
  const fs::path plain = dir / "plain.h5";
  {
    h5::Id f(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    REQUIRE(f.valid());
    h5::write_string_attribute(f.get(), "model", "gpt2");
  }
  CHECK(load_error(plain) == "Cannot open the session " + plain.string() +
                                 ": it is an HDF5 file but not a mechscope session (it has no "
                                 "'kind' attribute).");
}

TEST_CASE("sessions of a newer format or with inconsistent arrays are refused", "[session]") {
  const fs::path dir = scratch_folder("session_refused");
  const fs::path path = dir / "s.mscope";
  // Edits the saved file with `edit(file)` and returns load_session's message.
  auto edited = [&](auto edit) {
    save_session(sample_session(), path);
    {
      h5::Id f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
      REQUIRE(f.valid());
      edit(f.get());
    }
    seal_session_file(path);  // a consistent checksum: the content itself is checked
    return load_error(path);
  };
  CHECK(edited([](hid_t f) { h5::write_int_attribute(f, "format_version", 3); }) ==
        "Cannot open the session " + path.string() +
            ": it was written by a newer mechscope (format 3; this build reads up to 2).");
  CHECK_THAT(edited([](hid_t f) { h5::write_string_attribute(f, "kind", "other"); }),
             Catch::Contains("of kind 'other', not a mechscope session"));

  auto edit_pattern = [](void (*change)(hid_t)) {
    return [change](hid_t f) {
      h5::Id ds(H5Dopen2(f, "/results/zeta-1/pattern", H5P_DEFAULT), H5Dclose);
      REQUIRE(ds.valid());
      change(ds.get());
    };
  };
  CHECK(edited(edit_pattern([](hid_t ds) {
          h5::write_string_list_attribute(ds, "labels_key", {"a", "b", "c"});
        })) == "Cannot open the session " + path.string() +
                   ": Array 'pattern' of result 'zeta-1' has 3 labels on axis 'key' of length 4.");
  CHECK_THAT(edited(edit_pattern([](hid_t ds) {
               h5::write_string_attribute(ds, "axes", "[\"layer\", \"head\", \"query\"]");
             })),
             Catch::Contains("names 3 axes but the array has 4 dimensions"));
  CHECK_THAT(edited(edit_pattern([](hid_t ds) { h5::write_string_attribute(ds, "axes", "{"); })),
             Catch::Contains("attribute 'axes' of /results/zeta-1/pattern is not valid JSON"));
  CHECK_THAT(
      edited([](hid_t f) { H5Adelete_by_name(f, "/results/alpha-1", "order", H5P_DEFAULT); }),
      Catch::Contains("attribute 'order' of /results/alpha-1"));
}

TEST_CASE("saving refuses what cannot be stored and names the file", "[session]") {
  const fs::path dir = scratch_folder("session_save_errors");
  const fs::path nowhere = dir / "no such folder" / "s.mscope";
  try {
    save_session(sample_session(), nowhere);
    FAIL("saved into a missing folder");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "Cannot save the session " + nowhere.string() + ": the folder " +
                                       nowhere.parent_path().string() + " does not exist.");
  }
  const fs::path path = dir / "s.mscope";
  Session s = sample_session();
  s.results[1].id = s.results[0].id;
  CHECK_THROWS_WITH(save_session(s, path), Catch::Contains("Two results have the id 'zeta-1'"));
  s.results[1].id = "a/b";
  CHECK_THROWS_WITH(save_session(s, path), Catch::Contains("'a/b' cannot name an HDF5 object"));
  s.results[1].id = "";
  CHECK_THROWS_WITH(save_session(s, path),
                    Catch::StartsWith("Cannot save the session " + path.string()) &&
                        Catch::Contains("has no id"));
  CHECK(fs::is_empty(dir));  // nothing written, no temporary file left
}

TEST_CASE("stray temporary files do not disturb loading or saving", "[session]") {
  const fs::path dir = scratch_folder("session_stray");
  const fs::path path = dir / "s.mscope";
  save_session(sample_session(), path);
  std::ofstream(path.string() + ".tmp-99999") << "half a file";
  std::ofstream(path.string() + ".tmp-" + std::to_string(::getpid())) << "stale, same pid";
  check_same_session(sample_session(), load_session(path));
  Session changed = sample_session();
  changed.results.pop_back();
  save_session(changed, path);  // overwrites its own stale temporary name
  check_same_session(changed, load_session(path));
  CHECK_FALSE(fs::exists(path.string() + ".tmp-" + std::to_string(::getpid())));
}

TEST_CASE("a save killed half-way leaves the previous session intact", "[session][slow]") {
  const fs::path dir = scratch_folder("session_atomic");
  const fs::path path = dir / "s.mscope";
  const Session old = sample_session();
  save_session(old, path);
  for (int delay_ms : {50, 120, 200}) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child: build a 200 MB session, say so, then save it over `path` until killed.
      ::close(ready[0]);
      try {
        Session big;
        for (int i = 0; i < 4; ++i) {
          Result r;
          r.id = "big-" + std::to_string(i + 1);
          r.probe = "big";
          r.arrays["noise"] = make_array({1250, 10000}, {{"row", {}}, {"col", {}}}, noise);
          big.results.push_back(std::move(r));
        }
        const char byte = 1;
        if (::write(ready[1], &byte, 1) != 1) ::_exit(2);
        for (;;) save_session(big, path);
      } catch (...) {
        ::_exit(3);
      }
    }
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    // Kill it `delay_ms` after its temporary file appeared: surely in the middle of the save.
    const fs::path temp = path.string() + ".tmp-" + std::to_string(child);
    for (int waited = 0; !fs::exists(temp) && waited < 10000; ++waited) ::usleep(1000);
    ::usleep(useconds_t(delay_ms) * 1000);
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("killed " << delay_ms << " ms into a save");
    REQUIRE(WIFSIGNALED(status));  // it was still saving, not finished or failed
    CHECK(fs::exists(temp));       // the half-written temporary file is left behind
    check_same_session(old, load_session(path));
  }
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path() != path) fs::remove(entry.path());
}

TEST_CASE("a session carries its checksum; changed bytes are refused before HDF5 reads them",
          "[session]") {
  const fs::path dir = scratch_folder("session_checksum");
  const fs::path path = dir / "s.mscope";
  const Session original = sample_session();
  save_session(original, path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  REQUIRE(bytes.size() > 4096);
  CHECK(bytes.compare(0, 18, "MECHSCOPE-SESSION\n") == 0);
  CHECK(check_session_file(path) == SessionSeal::Verified);
  // HDF5 tools read past the user block as usual.
  {
    h5::Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    REQUIRE(f.valid());
    CHECK(h5::read_int_attribute(f.get(), "format_version") == 2);
  }
  auto write = [&](const fs::path& p, const std::string& b) {
    std::ofstream(p, std::ios::binary).write(b.data(), std::streamsize(b.size()));
  };
  // One flipped byte anywhere after the block: refused, whatever HDF5 would have done with it.
  for (size_t at : {size_t(600), bytes.size() / 2, bytes.size() - 3}) {
    std::string flipped = bytes;
    flipped[at] = char(flipped[at] ^ 0x5a);
    const fs::path bad = dir / ("flipped_" + std::to_string(at) + ".mscope");
    write(bad, flipped);
    CHECK_THAT(load_error(bad), Catch::StartsWith("Cannot open the session " + bad.string()) &&
                                    Catch::Contains("does not match the SHA-256"));
  }
  std::string appended = bytes + "junk";
  write(dir / "appended.mscope", appended);
  CHECK_THAT(load_error(dir / "appended.mscope"), Catch::Contains("something was appended"));
  std::string header = bytes;
  header.replace(18, 6, "sha257");
  write(dir / "header.mscope", header);
  CHECK_THAT(load_error(dir / "header.mscope"), Catch::Contains("header block is damaged"));

  // A file without the block (format 1, or another tool's HDF5 file with a user block of its
  // own) is read through the guarded path and still opens.
  std::string unsealed = bytes;
  std::fill(unsealed.begin(), unsealed.begin() + kSessionUserBlock, '\0');
  write(dir / "unsealed.mscope", unsealed);
  CHECK(check_session_file(dir / "unsealed.mscope") == SessionSeal::Absent);
  check_same_session(load_session(dir / "unsealed.mscope"), original);
}

TEST_CASE("the checking process stops work that never finishes and reports errors and crashes",
          "[session]") {
  using namespace std::chrono_literals;
  int served = 0;  // counts requests in the child only: the parent's copy stays 0
  CheckingProcess checker([&](const std::string& request) {
    ++served;
    if (request == "hang")
      for (;;) ::pause();
    if (request == "error") throw Error("bad attribute");
    if (request == "crash") ::raise(SIGSEGV);
    if (request == "count") throw Error(std::to_string(served));
  });
  const auto t0 = std::chrono::steady_clock::now();
  try {
    checker.run("hang", 300ms);
    FAIL("a hang was not stopped");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("did not finish within 1 s") && Catch::Contains("damaged"));
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK_FALSE(checker.run("fine", 5s).has_value());
  CHECK(checker.run("error", 5s).value() == "bad attribute");
  // One child serves request after request: this is its third.
  CHECK(checker.run("count", 5s).value() == "3");
  try {
    checker.run("crash", 5s);
    FAIL("a crash was not reported");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("crashed") && Catch::Contains("signal 11"));
  }
  CHECK(checker.run("count", 5s).value() == "1");  // a fresh child after the crash
  CHECK(served == 0);

  // Cancelling stops the child at once.
  const auto t1 = std::chrono::steady_clock::now();
  int asked = 0;
  CHECK_THROWS_AS(checker.run("hang", 60s, [&] { return ++asked < 3; }), Cancelled);
  CHECK(std::chrono::steady_clock::now() - t1 < 30s);  // stopped, long before its 60 s limit
  CHECK(asked == 3);
  CHECK_FALSE(checker.run("fine", 5s).has_value());
}

TEST_CASE("an idle checking process leaves and a new one serves the next request", "[session]") {
  using namespace std::chrono_literals;
  int served = 0;
  CheckingProcess checker([&](const std::string&) { throw Error(std::to_string(++served)); },
                          200ms);
  CHECK(checker.run("a", 5s).value() == "1");
  CHECK(checker.run("b", 5s).value() == "2");
  std::this_thread::sleep_for(600ms);
  CHECK(checker.run("c", 5s).value() == "1");
}

TEST_CASE("saving and opening report progress and can be cancelled without leaving files",
          "[session]") {
  const auto dir = test::scratch_path("session_progress");
  std::filesystem::create_directories(dir);
  const auto path = dir / "s.mscope";
  const Session original = sample_session();
  REQUIRE(original.results.size() >= 2);

  std::vector<double> seen;
  save_session(original, path, [&](double f) {
    seen.push_back(f);
    return true;
  });
  REQUIRE(seen.size() == original.results.size());
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.front() == 0.0);

  // A cancelled save throws Cancelled, keeps the previous file and leaves no temporary behind.
  Session changed = original;
  changed.results.pop_back();
  int calls = 0;
  CHECK_THROWS_AS(save_session(changed, path, [&](double) { return ++calls < 2; }), Cancelled);
  check_same_session(load_session(path), original);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files += entry.exists();
  CHECK(files == 1);

  seen.clear();
  check_same_session(load_session(path, [&](double f) {
                       seen.push_back(f);
                       return true;
                     }),
                     original);
  REQUIRE(!seen.empty());
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.back() < 1.0);
  CHECK_THROWS_AS(load_session(path, [](double) { return false; }), Cancelled);
  std::filesystem::remove_all(dir);
}

TEST_CASE("hostile sessions the fuzzer found are refused: HDF5's hangs and crashes stay in the "
          "checking process",
          "[session]") {
  // Files fuzz_session made from the seeds: in libhdf5 itself, two loop forever and two crash
  // (SIGSEGV; a memcpy of a corrupt global-heap length). Opened in-process they would freeze or
  // kill the program; here each costs at most the time limit and one sentence.
  const auto dir = test::golden_dir() / "sessions" / "hostile";
  using namespace std::chrono_literals;
  for (const char* name : {"hdf5_hang_1.mscope", "hdf5_hang_2.mscope", "hdf5_crash_1.mscope",
                           "hdf5_crash_2.mscope"}) {
    INFO(name);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string error = load_error(dir / name);
    CHECK_THAT(error, Catch::Contains("Cannot open the session") && Catch::Contains(name));
    if (std::string(name).find("hang") != std::string::npos)
      CHECK_THAT(error, Catch::Contains("did not finish within"));
    else
      CHECK_THAT(error, Catch::Contains("crashed the checking process"));
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  }
  // The checking process serves the next, sound file as usual.
  const auto path = test::scratch_path("after_hostile.mscope");
  save_session(sample_session(), path);
  check_same_session(load_session(path), sample_session());
  std::filesystem::remove(path);
}
