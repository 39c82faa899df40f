#pragma once
// Greedy generation: how many tokens, Generate / Cancel, and the streamed output.
#include <QWidget>
#include <optional>

class QCheckBox;
class QDoubleSpinBox;
class QPushButton;
class QSpinBox;
class QTextEdit;

namespace mechscope {

class GeneratePanel : public QWidget {
  Q_OBJECT

 public:
  explicit GeneratePanel(QWidget* parent = nullptr);

  int tokenCount() const;
  void setTokenCount(int n);
  /// The generated text so far (without the prompt).
  QString continuation() const { return continuation_; }
  QTextEdit* output() const { return output_; }
  QPushButton* generateButton() const { return generate_; }
  QPushButton* cancelButton() const { return cancel_; }

  /// A neuron held at a value while generating (blocks.L.mlp.hook_post at every position).
  struct Clamp {
    int layer = 0, neuron = 0;
    double value = 0;
  };
  /// The clamp when its box is checked.
  std::optional<Clamp> clamp() const;
  void setClamp(const std::optional<Clamp>& clamp);
  /// Limits the layer and neuron fields to the open model (n_layers, d_mlp).
  void setModelShape(int layers, int neurons);

 public slots:
  /// Generate is enabled when a model is open and idle; Cancel while generating.
  void setState(bool canGenerate, bool generating);
  void onGenerationStarted(const QString& prompt);
  void onGenerationProgress(const QString& continuation);
  void onGenerationFinished(const QString& continuation, bool cancelled);

 signals:
  void generateRequested(int maxNewTokens);
  void cancelRequested();

 private:
  void showText(const QString& suffix = {});

  QSpinBox* tokens_;
  QCheckBox* clampBox_;
  QSpinBox* clampLayer_;
  QSpinBox* clampNeuron_;
  QDoubleSpinBox* clampValue_;
  QPushButton* generate_;
  QPushButton* cancel_;
  QTextEdit* output_;
  QString prompt_;
  QString continuation_;
};

}  // namespace mechscope
