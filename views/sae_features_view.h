#pragma once
// SaeFeaturesView: an SAE's features on a prompt (probe "sae_features"). The figure has the
// prompt's tokens as rows, each with its reconstruction error and its top features as chips
// shaded by activation; a heatmap of the leading features' activations across positions; and
// the selected feature's detail: the tokens its decoder direction promotes (logits) and its
// top-activating examples with the peak token highlighted. Clicking a chip or a heatmap cell
// selects a feature (and position); the feature chooser lists the detail features.
// Arrays: `feature_acts` [position, latent], `top_features` / `top_values` [position, rank],
// optional `reconstruction_error` [position], `feature_ids` [feature], `feature_logit_tokens` /
// `feature_logit_values` [feature, rank], `example_acts` / `example_index` / `example_position`
// [feature, example_rank] with meta `examples` and `example_tokens`. Painting is in
// sae_features_figure.cpp.
#include <QStringList>
#include <vector>

#include "views/bar_figure.h"
#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QComboBox;
class QLabel;

namespace mechscope {

class ColorScaleEditor;
struct FigureStyle;

class SaeFeaturesView : public ResultView {
  Q_OBJECT

 public:
  explicit SaeFeaturesView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "sae_features" with a 2-d `feature_acts` and `top_features` / `top_values` of as many
  /// positions.
  static bool canShow(const Result& result);

  /// {"feature": latent id, "position": index or -1 (none), "scale": ColorScale JSON, "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  int positions() const { return positions_; }
  int64_t latents() const { return latents_; }
  /// The selected latent and position (-1: none).
  int64_t feature() const { return feature_; }
  int position() const { return position_; }
  /// Selects a latent (clamped to the SAE's) as a click or the chooser does.
  void selectFeature(int64_t latent);
  /// The detail features (feature_ids), strongest first; empty when the result has none.
  const std::vector<int64_t>& detailFeatures() const { return detailIds_; }
  /// "#123 4.21" texts of a position's top features with a positive activation.
  QStringList chipTexts(int position) const;
  /// The activation of `latent` at `position`.
  float activation(int position, int64_t latent) const;
  /// The selected feature's decoder tokens ("“Mary” 3.2"), empty when it has none.
  QStringList decoderTokens() const;
  /// The selected feature's top examples: "0.93: …text with [peak] token…" lines.
  QStringList exampleLines() const;
  /// What the panel under the figure shows.
  QString detailText() const;
  /// Canvas rectangle of chip `rank` of `position`'s row; empty when not drawn.
  QRect chipRect(int position, int rank) const;
  /// Canvas rectangle of heatmap cell (row of latent, position); empty when not drawn.
  QRect heatmapCellRect(int64_t latent, int position) const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption;
    QRectF rows;  // the token rows
    double rowHeight = 0, labelWidth = 0, errorWidth = 0, chipWidth = 0;
    int chips = 0;  // chips drawn per row
    QRectF heatmap, decoder, examples;
  };
  Layout layout(const QRectF& rect) const;
  QString caption() const;
  HeatmapFigure heatmapFigure() const;
  BarFigure decoderFigure() const;
  /// One top example of the selected feature: its activation and its text around the peak
  /// token ("…" where cut).
  struct ExampleLine {
    float value = 0;
    QString before, peak, after;
  };
  std::vector<ExampleLine> examples() const;
  void paintRows(QPainter& p, const Layout& L, const FigureStyle& style) const;
  void paintExamples(QPainter& p, const QRectF& rect, const FigureStyle& style) const;
  /// Row index of `latent` in detailIds_, or -1.
  int detailIndex(int64_t latent) const;
  /// Latents drawn in the heatmap: the leading detail features and the selected one.
  std::vector<int64_t> heatmapLatents() const;
  ColorScale resolvedScale() const;
  void rebuildHeatmap();
  void syncControls();
  void userChanged();

  const Array* acts_ = nullptr;
  const Array* topIds_ = nullptr;
  const Array* topValues_ = nullptr;
  const Array* error_ = nullptr;
  const Array* logitTokens_ = nullptr;
  const Array* logitValues_ = nullptr;
  const Array* exampleActs_ = nullptr;
  const Array* exampleIndex_ = nullptr;
  const Array* examplePosition_ = nullptr;
  int positions_ = 0, ranks_ = 0;
  int64_t latents_ = 0;
  QStringList positionLabels_;
  std::vector<int64_t> detailIds_;
  float maxActivation_ = 0;

  int64_t feature_ = 0;
  int position_ = -1;
  ColorScale scale_;

  std::vector<int64_t> heatLatents_;  // heatmap rows
  std::vector<float> heat_;           // [rows, positions]

  QComboBox* featureBox_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
