#pragma once
// Helpers of the workbench tests: a tiny model that always exists (tests/golden/models/llama_gqa,
// 2 layers × 4 heads, with a word-level tokenizer written beside a copy of it) and a shown window.
#include <QApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "probes/tasks/vocabulary.h"
#include "tests/test_paths.h"

namespace mechscope::test {

constexpr int kWorkbenchTimeoutMs = 60000;

/// The words of the tiny model's tokenizer (after the special tokens; the rest are "w<i>").
inline std::vector<std::string> workbenchWords() {
  return {"when", "mary",  "and",  "john", "went", "to",    "the", "store", ",",   "gave",
          "a",    "drink", "once", "upon", "time", "there", "was", "cat",   "dog", "."};
}

/// llama_gqa copied to a temporary folder with a 113-word WordLevel tokenizer.json.
inline QString wordModelDir() {
  static QTemporaryDir dir;
  static const bool made = [] {
    namespace fs = std::filesystem;
    const fs::path from = golden_dir() / "models" / "llama_gqa";
    const fs::path to = dir.path().toStdString();
    for (const char* file : {"config.json", "model.safetensors"})
      fs::copy_file(from / file, to / file, fs::copy_options::overwrite_existing);
    std::vector<std::string> vocab = tasks::special_tokens();
    for (const std::string& w : workbenchWords()) vocab.push_back(w);
    while (vocab.size() < 113) vocab.push_back("w" + std::to_string(vocab.size()));
    tasks::write_word_level_tokenizer(to / "tokenizer.json", vocab);
    return true;
  }();
  (void)made;
  return dir.path();
}

/// Opens the tiny word-level model in `w` and waits for it.
inline bool openWordModel(MainWindow& w) {
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(wordModelDir());
  return loaded.wait(kWorkbenchTimeoutMs);
}

/// A shown window with error dialogs off (errors still arrive through errorShown()).
struct Workbench {
  MainWindow w;
  Workbench() {
    QApplication::setQuitOnLastWindowClosed(false);  // tests close windows themselves
    w.setErrorDialogsEnabled(false);
    w.show();
    REQUIRE(QTest::qWaitForWindowExposed(&w));
  }
};

/// Runs the attention probe in `w` and waits for its Result; returns its id (empty on failure).
inline QString runAttention(MainWindow& w) {
  QSignalSpy added(&w, &MainWindow::resultAdded);
  if (!w.runAttention()) return {};
  if (!added.wait(kWorkbenchTimeoutMs)) return {};
  return added.front().at(0).toString();
}

}  // namespace mechscope::test
