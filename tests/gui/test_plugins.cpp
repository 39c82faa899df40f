// The plugin SDK end to end: the example plugin is found in the build's plugin directory, its
// metadata read, loaded and run on real models (matching probes/head_scores and a direct
// computation from the activation cache); broken plugins and non-plugins are reported and
// skipped; failing runs come back as errors while the program goes on.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <QCryptographicHash>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <catch2/catch.hpp>

#include "core/model/loader.h"
#include "core/model/model.h"
#include "plugins/sdk/plugin_manager.h"
#include "probes/options.h"
#include "plugins/sdk/plugin_run.h"
#include "probes/head_scores.h"
#include "probes/result_meta.h"
#include "tests/test_paths.h"

using namespace mechscope;
using namespace mechscope::probes;

namespace {

const QString kPluginDir = QStringLiteral(MECHSCOPE_PLUGIN_DIR);
const QString kTestPluginDir = QStringLiteral(MECHSCOPE_TEST_PLUGIN_DIR);

/// A tiny committed model (always present): 2 layers, 4 query heads sharing 2 KV heads.
const Model& goldenModel() {
  static std::unique_ptr<Model> model = load_model(test::golden_dir() / "models" / "llama_gqa");
  return *model;
}

/// stories260K when the shared fixtures are present, else nullptr (with a warning).
const Model* storiesModel() {
  const auto dir = test::fixtures_dir() / "stories260K";
  if (!std::filesystem::exists(dir / "stories260K.bin")) {
    WARN("Skipped the stories260K part: the fixture is not at " << dir.string());
    return nullptr;
  }
  static std::unique_ptr<Model> model = [&] {
    LoadOptions options;
    options.tokenizer = dir / "tok512.bin";
    return load_model(dir / "stories260K.bin", options);
  }();
  return model.get();
}

/// One manager for the whole test process: plugins stay loaded, as in the workbench.
PluginManager& exampleManager() {
  static PluginManager manager;
  static const bool scanned = (manager.scan({kPluginDir}), true);
  (void)scanned;
  return manager;
}

const LoadedPlugin& tokenHeads() {
  const LoadedPlugin* p = exampleManager().find(QStringLiteral("token_heads"));
  REQUIRE(p != nullptr);
  return *p;
}

/// Whether any problem's file ends with `file_suffix` and its message contains `needle`.
bool hasProblem(const PluginManager& m, const QString& file_suffix, const QString& needle) {
  for (const PluginProblem& p : m.problems())
    if (p.file.endsWith(file_suffix) && p.message.contains(needle)) return true;
  return false;
}

std::string problemsText(const PluginManager& m) {
  std::string s;
  for (const PluginProblem& p : m.problems()) s += p.text().toStdString() + "\n";
  return s;
}

/// The array as a [n_layers, n_heads] tensor, for comparisons.
at::Tensor asTensor(const Array& a) { return at::tensor(a.data, at::kFloat).view(a.shape); }

/// Every hook_pattern of one run on `tokens`, stacked: [n_layers, head, q, k].
at::Tensor patterns(const Model& model, const std::vector<int64_t>& tokens) {
  c10::InferenceMode guard;
  const auto cache = model.run_with_cache(at::tensor(tokens, at::kLong).view({1, -1}), {},
                                          names_matching(R"(^blocks\.\d+\.attn\.hook_pattern$)"));
  std::vector<at::Tensor> layers;
  for (int64_t l = 0; l < model.config().n_layers; ++l)
    layers.push_back(cache.at("blocks." + std::to_string(l) + ".attn.hook_pattern")[0]);
  return at::stack(layers);
}

}  // namespace

TEST_CASE("the example plugin is discovered, its metadata read, and loaded", "[plugins]") {
  CHECK(PluginManager::defaultDirectories().contains(kPluginDir));
  const PluginManager& m = exampleManager();
  INFO(problemsText(m));
  CHECK(m.problems().empty());
  const LoadedPlugin& p = tokenHeads();
  CHECK(p.info.version == QStringLiteral("1.0.0"));
  CHECK(p.info.sdk_version == kPluginSdkVersion);
  CHECK(p.info.description.contains(QStringLiteral("induction")));
  CHECK(p.file.startsWith(kPluginDir));
  CHECK(p.plugin->name() == p.info.name);
  {  // the hash shown in "Plugins and problems…" is the library file's SHA-256
    QFile file(p.file);
    REQUIRE(file.open(QIODevice::ReadOnly));
    CHECK(p.sha256 ==
          QString::fromLatin1(QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256)
                                  .toHex()));
    CHECK(p.sha256.size() == 64);
  }
  const nlohmann::json schema = p.plugin->optionsSchema();
  CHECK(schema["properties"]["source"]["default"] == "prompt");

  // A second scan of the same directory loads nothing twice.
  PluginManager& same = exampleManager();
  CHECK(same.scan({kPluginDir}) == 0);
  CHECK(same.plugins().size() == 1);
}

TEST_CASE("token_heads on repeated random tokens is the mean of its prompt scores", "[plugins]") {
  const Model* stories = storiesModel();
  for (const Model* model : {&goldenModel(), stories}) {
    if (!model) continue;
    const at::Tensor seqs = repeated_random_tokens(*model, 4, 10, 1);
    for (const char* kind : {"previous_token", "duplicate_token", "induction"}) {
      INFO(model->source().path << " " << kind);
      at::Tensor expected;
      for (int64_t b = 0; b < 4; ++b) {
        PluginInputs one;
        const at::Tensor row = seqs[b].contiguous();
        one.tokens.assign(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
        PluginRunOutcome out = run_plugin(tokenHeads(), *model, one, {{"kind", kind}});
        REQUIRE(out.ok());
        at::Tensor s = asTensor(out.result->array("score"));
        expected = expected.defined() ? expected + s / 4.0 : s / 4.0;
      }
      const nlohmann::json options = {
          {"source", "random_repeat"}, {"kind", kind}, {"batch", 4}, {"length", 10}, {"seed", 1}};
      PluginRunOutcome out = run_plugin(tokenHeads(), *model, {}, options);
      INFO(out.error);
      REQUIRE(out.ok());
      const Array& score = out.result->array("score");
      const ModelConfig& c = model->config();
      REQUIRE(score.shape == std::vector<int64_t>{c.n_layers, c.n_heads});
      CHECK(score.axes[0].name == "layer");
      CHECK(score.axes[1].name == "head");
      CHECK(score.axes[0].labels.back() == "L" + std::to_string(c.n_layers - 1));
      CHECK(score.axes[1].labels.front() == "H0");
      CHECK(at::allclose(asTensor(score), expected, 1e-5, 1e-6));
    }
  }
}

TEST_CASE("token_heads on the prompt matches the attention patterns", "[plugins]") {
  const Model& model = goldenModel();
  // [BOS-like token, s, s] with distinct tokens in s: every second-copy token has one earlier
  // occurrence, half positions back.
  const int64_t half = 6;
  std::vector<int64_t> tokens = {1};
  for (int64_t i = 0; i < 2 * half; ++i) tokens.push_back(10 + i % half);
  const at::Tensor p = patterns(model, tokens);                            // [layer, head, q, k]
  const at::Tensor q = at::arange(1 + half, 1 + 2 * half, at::kLong);      // second-copy positions
  auto mean_at = [&](const at::Tensor& queries, const at::Tensor& keys) {  // [layer, head]
    return p.index({at::indexing::Slice(), at::indexing::Slice(), queries, keys}).mean(2);
  };
  const at::Tensor all = at::arange(1, int64_t(tokens.size()), at::kLong);
  const std::map<std::string, at::Tensor> expected = {{"previous_token", mean_at(all, all - 1)},
                                                      {"duplicate_token", mean_at(q, q - half)},
                                                      {"induction", mean_at(q, q - half + 1)}};
  PluginInputs inputs;
  inputs.tokens = tokens;
  inputs.prompt = "a repeated prompt";
  for (const auto& [kind, want] : expected) {
    INFO(kind);
    PluginRunOutcome out = run_plugin(tokenHeads(), model, inputs, {{"kind", kind}});
    INFO(out.error);
    REQUIRE(out.ok());
    CHECK(at::allclose(asTensor(out.result->array("score")), want, 1e-5, 1e-6));
  }

  SECTION("the Result carries the metadata built-in probes carry") {
    PluginRunOutcome out = run_plugin(tokenHeads(), model, inputs, nullptr);
    REQUIRE(out.ok());
    const Result& r = *out.result;
    CHECK(r.probe == "token_heads");
    CHECK_FALSE(r.id.empty());
    CHECK_NOTHROW(r.validate());
    CHECK(r.meta["probe"] == "token_heads");
    CHECK(r.meta["options"] == nlohmann::json({{"kind", "previous_token"},
                                               {"source", "prompt"},
                                               {"batch", 4},
                                               {"length", 20},
                                               {"seed", 0}}));
    CHECK(r.meta["plugin"]["version"] == "1.0.0");
    CHECK(r.meta["plugin"]["sdk_version"] == kPluginSdkVersion);
    CHECK(r.meta["model"] == probes::model_identity(model));
    CHECK_FALSE(r.meta["model"]["hash"].get<std::string>().empty());
    CHECK(r.meta["inputs"]["tokens"] == nlohmann::json(tokens));
    CHECK(r.meta["inputs"]["prompt"] == "a repeated prompt");
    CHECK(r.meta["mechscope_version"] == MECHSCOPE_VERSION);
    CHECK(r.meta["created"].get<std::string>().size() == 20);  // 2026-01-01T00:00:00Z
    CHECK(r.meta["top_heads"].size() == 5);                    // the plugin's own meta is kept
  }

  SECTION("a prompt without repeats has no duplicate-token score: an error, not a crash") {
    PluginInputs plain;
    plain.tokens = {1, 10, 11, 12};
    PluginRunOutcome out = run_plugin(tokenHeads(), model, plain, {{"kind", "duplicate_token"}});
    CHECK_FALSE(out.ok());
    CHECK_THAT(out.error, Catch::Contains("repeats no token"));
  }

  SECTION("options outside the schema are refused before the plugin runs") {
    PluginRunOutcome unknown = run_plugin(tokenHeads(), model, inputs, {{"colour", "red"}});
    CHECK_THAT(unknown.error, Catch::Contains("Unknown option 'colour'"));
    PluginRunOutcome bad = run_plugin(tokenHeads(), model, inputs, {{"kind", "sideways"}});
    CHECK_THAT(bad.error, Catch::Contains("allowed values"));
    PluginRunOutcome type = run_plugin(tokenHeads(), model, inputs, {{"batch", "four"}});
    CHECK_THAT(type.error, Catch::Contains("integer"));
  }
}

TEST_CASE("broken plugins and non-plugins are reported and skipped", "[plugins]") {
  QTemporaryDir junk;
  REQUIRE(junk.isValid());
  QFile garbage(junk.filePath(QStringLiteral("libgarbage.so")));
  REQUIRE(garbage.open(QIODevice::WriteOnly));
  garbage.write("this is not an ELF file\n");
  garbage.close();
  QFile notes(junk.filePath(QStringLiteral("README.txt")));  // not a library: ignored silently
  REQUIRE(notes.open(QIODevice::WriteOnly));
  notes.close();
  const QString missing = junk.filePath(QStringLiteral("no-such-dir"));

  qunsetenv("MECHSCOPE_TEST_SDK99_LOADED");
  PluginManager m;
  CHECK(m.scan({kTestPluginDir, junk.path(), missing}) == 1);
  INFO(problemsText(m));
  REQUIRE(m.plugins().size() == 1);
  CHECK(m.plugins()[0].info.name == QStringLiteral("misbehaving"));

  CHECK(hasProblem(m, QStringLiteral("libtest_plugin_sdk99.so"),
                   QStringLiteral("plugin SDK version 99")));
  // Refused from its metadata alone: its code (which sets this variable) never ran.
  CHECK_FALSE(qEnvironmentVariableIsSet("MECHSCOPE_TEST_SDK99_LOADED"));
  CHECK(hasProblem(m, QStringLiteral("libtest_plugin_no_metadata.so"),
                   QStringLiteral("metadata is missing")));
  CHECK(hasProblem(m, QStringLiteral("libtest_plugin_missing_symbol.so"),
                   QStringLiteral("mechscope_test_undefined_function")));
  CHECK(
      hasProblem(m, QStringLiteral("libtest_plain_library.so"), QStringLiteral("not a Qt plugin")));
  CHECK(hasProblem(m, QStringLiteral("libgarbage.so"), QStringLiteral("not a Qt plugin")));
  CHECK(hasProblem(m, QStringLiteral("no-such-dir"), QStringLiteral("does not exist")));
  CHECK(m.problems().size() == 6);
}

TEST_CASE("$MECHSCOPE_PLUGIN_PATH is searched after the build's directory", "[plugins]") {
  QTemporaryDir extra;
  REQUIRE(extra.isValid());
  // A second copy of the example plugin: same name, so refused (before loading) as a duplicate.
  const QString copy = extra.filePath(QStringLiteral("libtoken_heads_copy.so"));
  REQUIRE(QFile::copy(tokenHeads().file, copy));
  const QString missing = extra.filePath(QStringLiteral("missing"));
  const QByteArray saved = qgetenv("MECHSCOPE_PLUGIN_PATH");
  qputenv("MECHSCOPE_PLUGIN_PATH", (extra.path() + QDir::listSeparator() + missing).toUtf8());
  const QStringList dirs = PluginManager::defaultDirectories();
  PluginManager m;
  m.scanDefault();
  qputenv("MECHSCOPE_PLUGIN_PATH", saved);

  CHECK(dirs.indexOf(kPluginDir) == 0);
  CHECK(dirs.indexOf(extra.path()) > 0);
  CHECK(dirs.contains(missing));
  INFO(problemsText(m));
  REQUIRE(m.find(QStringLiteral("token_heads")) != nullptr);
  CHECK(m.find(QStringLiteral("token_heads"))->file.startsWith(kPluginDir));
  CHECK(hasProblem(m, QStringLiteral("libtoken_heads_copy.so"), QStringLiteral("already loaded")));
  CHECK(hasProblem(m, QStringLiteral("missing"), QStringLiteral("does not exist")));
}

TEST_CASE("a failing plugin run returns an error and the program goes on", "[plugins]") {
  PluginManager m;
  m.scan({kTestPluginDir});
  const LoadedPlugin* p = m.find(QStringLiteral("misbehaving"));
  REQUIRE(p != nullptr);
  const Model& model = goldenModel();
  auto run = [&](const char* mode, const std::function<bool(double)>& progress = {}) {
    return run_plugin(*p, model, {}, {{"mode", mode}}, progress);
  };

  PluginRunOutcome thrown = run("std_exception");
  CHECK_FALSE(thrown.ok());
  CHECK(thrown.error == "Plugin 'misbehaving' failed: Deliberate failure in run().");
  CHECK_FALSE(thrown.cancelled);

  PluginRunOutcome odd = run("other_exception");
  CHECK_FALSE(odd.ok());
  CHECK_THAT(odd.error, Catch::Contains("not a std::exception"));

  PluginRunOutcome inconsistent = run("inconsistent");
  CHECK_FALSE(inconsistent.ok());
  CHECK_THAT(inconsistent.error, Catch::Contains("needs 3"));

  PluginRunOutcome cancelled = run("cancellable", [](double) { return false; });
  CHECK_FALSE(cancelled.ok());
  CHECK(cancelled.cancelled);

  std::vector<double> seen;
  PluginRunOutcome fine = run("cancellable", [&](double f) {
    seen.push_back(f);
    return true;
  });
  CHECK(fine.ok());
  CHECK(seen == std::vector<double>{0.0, 0.5});  // run_probe reports 0 before the plugin runs

  // Still alive: the event loop runs and the example plugin still works.
  QCoreApplication::processEvents();
  CHECK(run_plugin(tokenHeads(), model, {}, {{"source", "random_repeat"}, {"length", 5}}).ok());
}

TEST_CASE("plugin options are completed from the schema's defaults", "[plugins]") {
  using probes::options_from_schema;
  using probes::resolve_options;
  const nlohmann::json schema = {
      {"type", "object"},
      {"properties",
       {{"n", {{"type", "integer"}, {"default", 3}, {"minimum", 1}, {"maximum", 9}}},
        {"mode", {{"type", "string"}, {"enum", {"a", "b"}}, {"default", "a"}}}}}};
  const auto specs = options_from_schema(schema);
  CHECK(resolve_options(specs, nullptr) == nlohmann::json({{"n", 3}, {"mode", "a"}}));
  CHECK(resolve_options(specs, {{"mode", "b"}}) == nlohmann::json({{"n", 3}, {"mode", "b"}}));
  CHECK_THROWS_WITH(resolve_options(specs, {{"mode", "c"}}), Catch::Contains("allowed values"));
  CHECK_THROWS_WITH(resolve_options(specs, {{"n", 1.5}}), Catch::Contains("integer"));
  CHECK_THROWS_WITH(resolve_options(specs, {{"n", 10}}), Catch::Contains("[1, 9]"));
  CHECK_THROWS_WITH(resolve_options(specs, {{"x", 1}}), Catch::Contains("takes: mode, n"));
  CHECK_THROWS_WITH(resolve_options(specs, nlohmann::json::array()),
                    Catch::Contains("JSON object"));
  // The schema round-trips through the probe registry's form.
  CHECK(probes::options_schema(specs)["properties"]["n"]["maximum"] == 9.0);
  CHECK_THROWS_WITH(options_from_schema({{"properties", {{"k", {{"type", "integer"}}}}}}),
                    Catch::Contains("no default"));
}
