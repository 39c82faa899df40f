#include "views/summary_view.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>

#include "views/colormap.h"
#include "views/figure_style.h"

namespace mechscope {
namespace {

constexpr int kMaxMetaLines = 60;

QString shapeText(const Array& a) {
  QStringList dims;
  for (size_t d = 0; d < a.shape.size(); ++d) {
    const std::string& name = d < a.axes.size() ? a.axes[d].name : std::string();
    dims << (name.empty()
                 ? QString::number(a.shape[d])
                 : QStringLiteral("%1 %2").arg(QString::fromStdString(name)).arg(a.shape[d]));
  }
  return QLatin1Char('[') + dims.join(QStringLiteral(", ")) + QLatin1Char(']');
}

}  // namespace

SummaryView::SummaryView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  lines_ << tr("probe: %1").arg(QString::fromStdString(result_->probe));
  if (result_->arrays.empty()) lines_ << tr("no arrays");
  for (const auto& [name, a] : result_->arrays) {
    QString line = QStringLiteral("%1 %2").arg(QString::fromStdString(name), shapeText(a));
    if (a.numel() == 1 && a.data.size() == 1)
      line += QStringLiteral(" = ") + formatValue(a.data[0], 6);
    lines_ << line;
  }
  if (!result_->meta.empty()) {
    lines_ << QString() << tr("metadata:");
    const QStringList meta = QString::fromStdString(result_->meta.dump(2)).split(QLatin1Char('\n'));
    for (int i = 0; i < meta.size() && i < kMaxMetaLines; ++i) lines_ << meta[i];
    if (meta.size() > kMaxMetaLines) lines_ << QStringLiteral("…");
  }
}

nlohmann::json SummaryView::state() const { return nlohmann::json::object(); }

void SummaryView::setState(const nlohmann::json&) {}

QString SummaryView::figureTitle() const {
  return QString::fromStdString(result_->title.empty() ? result_->id : result_->title);
}

int SummaryView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width);
  const double line = QFontMetricsF(style.font(0.9)).lineSpacing();
  return static_cast<int>(std::max<double>(
      width * 0.3,
      titleHeight(figureTitle(), style) + (lines_.size() + 1) * line + 3 * style.pad()));
}

void SummaryView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style =
      FigureStyle::forSize(rect.width(), std::max(rect.height(), rect.width() / 2));
  const QRectF R = QRectF(rect).adjusted(style.pad(), style.pad(), -style.pad(), -style.pad());
  p.save();
  paintTitle(p, R, figureTitle(), style);
  QFont mono = style.font(0.9);
  mono.setStyleHint(QFont::Monospace);
  mono.setFamily(QStringLiteral("monospace"));
  p.setFont(mono);
  p.setPen(style.text);
  const QFontMetricsF fm(mono);
  double y = R.top() + titleHeight(figureTitle(), style);
  for (const QString& line : lines_) {
    if (y + fm.height() > R.bottom()) break;
    p.drawText(QRectF(R.left(), y, R.width(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
               fm.elidedText(line, Qt::ElideRight, R.width()));
    y += fm.lineSpacing();
  }
  p.restore();
}

}  // namespace mechscope
