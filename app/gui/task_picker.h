#pragma once
// The prompt picker: a combo of the task suite's text tasks (probes/tasks) and a "New example"
// button that draws the next seeded example and hands out its prompt, corrupted prompt and answer.
#include <QImage>
#include <QWidget>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

class QComboBox;
class QPushButton;

namespace mechscope {
namespace tasks {
class Task;
}

class TaskPicker : public QWidget {
  Q_OBJECT

 public:
  /// Turns an example's words into text for the model (default: tasks::render_words).
  using WordRenderer = std::function<QString(const std::vector<std::string>& words)>;

  explicit TaskPicker(QWidget* parent = nullptr);
  ~TaskPicker() override;

  QString taskName() const;
  /// Selects the task called `name` (ignored when unknown).
  void setTaskName(const QString& name);
  QStringList taskNames() const;
  /// Prompts never exceed this many words (the model's context without BOS); default 128.
  void setMaxWords(int64_t words) { maxWords_ = words; }
  void setWordRenderer(WordRenderer renderer) { render_ = std::move(renderer); }
  /// How many examples were drawn so far: example i comes from seed example_seed(kSeed, i).
  uint64_t drawn() const { return drawn_; }
  QComboBox* combo() const { return combo_; }
  QPushButton* newExampleButton() const { return newExample_; }

  static constexpr uint64_t kSeed = 20251127;

 public slots:
  /// Draws the next example of the selected task: exampleReady(), or failed() with the reason.
  void newExample();

 signals:
  void exampleReady(const QString& prompt, const QString& corrupt, const QString& answer,
                    const QString& wrong);
  /// Before exampleReady: the example's image (shapes VQA), or a null image for text tasks.
  void exampleImage(const QImage& image);
  void failed(const QString& message);

 private:
  std::vector<std::unique_ptr<tasks::Task>> tasks_;  // the suite, in order
  QComboBox* combo_;
  QPushButton* newExample_;
  WordRenderer render_;
  int64_t maxWords_ = 128;
  uint64_t drawn_ = 0;
};

}  // namespace mechscope
