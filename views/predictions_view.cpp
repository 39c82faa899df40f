#include "views/predictions_view.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include "views/token_text.h"

namespace mechscope {
namespace {

constexpr int kMargin = 6;
constexpr int kRankWidth = 28;
constexpr int kLogitWidth = 72;
constexpr int kPercentWidth = 56;

struct Columns {
  QRect rank, token, bar, percent, logit;
};

// Column rectangles of one row at vertical offset `y`.
Columns columnsFor(int width, int y, int height) {
  Columns c;
  const int inner = width - 2 * kMargin;
  const int tokenWidth = std::clamp(inner / 3, 80, 220);
  int x = kMargin;
  c.rank = QRect(x, y, kRankWidth, height);
  x += kRankWidth;
  c.token = QRect(x, y, tokenWidth, height);
  x += tokenWidth + 6;
  const int barWidth = std::max(20, width - kMargin - kLogitWidth - kPercentWidth - 6 - x);
  c.bar = QRect(x, y, barWidth, height);
  x += barWidth + 6;
  c.percent = QRect(x, y, kPercentWidth, height);
  x += kPercentWidth;
  c.logit = QRect(x, y, kLogitWidth, height);
  return c;
}

}  // namespace

PredictionsView::PredictionsView(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  setMouseTracking(true);
}

void PredictionsView::setPredictions(const QVector<PredictionRow>& rows) {
  rows_ = rows;
  updateGeometry();
  update();
}

QString PredictionsView::rowText(int index) const {
  if (index < 0 || index >= rows_.size()) return {};
  return visibleWhitespace(rows_[index].text);
}

QString PredictionsView::formatProbability(double p) {
  const double percent = 100.0 * p;
  if (percent >= 0.1 || p == 0) return QString::number(percent, 'f', 1) + QLatin1Char('%');
  if (percent >= 0.001) return QString::number(percent, 'f', 3) + QLatin1Char('%');
  return QString::number(percent, 'e', 1) + QLatin1Char('%');
}

void PredictionsView::setPlaceholderText(const QString& text) {
  placeholder_ = text;
  update();
}

int PredictionsView::rowHeight() const { return fontMetrics().height() + 8; }

int PredictionsView::rowAt(const QPoint& pos) const {
  const int y = pos.y() - kMargin - headerHeight();
  if (y < 0) return -1;
  const int i = y / rowHeight();
  return i < rows_.size() ? i : -1;
}

QSize PredictionsView::sizeHint() const {
  return {420, 2 * kMargin + headerHeight() + std::max<int>(rows_.size(), 10) * rowHeight()};
}

QSize PredictionsView::minimumSizeHint() const {
  return {260, 2 * kMargin + headerHeight() + 3 * rowHeight()};
}

bool PredictionsView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int i = rowAt(help->pos());
    if (i >= 0) {
      const PredictionRow& r = rows_[i];
      QToolTip::showText(help->globalPos(),
                         tr("\"%1\"\nid %2\nprobability %3\nlogit %4")
                             .arg(rowText(i))
                             .arg(r.id)
                             .arg(r.probability, 0, 'g', 6)
                             .arg(r.logit, 0, 'f', 4),
                         this);
    } else {
      QToolTip::hideText();
      event->ignore();
    }
    return true;
  }
  return QWidget::event(event);
}

void PredictionsView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  const int rh = rowHeight();
  const QColor text = palette().color(QPalette::Text);
  const QColor muted = palette().color(QPalette::PlaceholderText);

  // Header.
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(text);
  Columns h = columnsFor(width(), kMargin, headerHeight());
  p.drawText(h.rank, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("#"));
  p.drawText(h.token, Qt::AlignLeft | Qt::AlignVCenter, tr("Token"));
  p.drawText(h.bar, Qt::AlignLeft | Qt::AlignVCenter, tr("Probability"));
  p.drawText(h.logit, Qt::AlignRight | Qt::AlignVCenter, tr("Logit"));
  p.setPen(palette().color(QPalette::Mid));
  p.drawLine(kMargin, kMargin + headerHeight() - 1, width() - kMargin,
             kMargin + headerHeight() - 1);
  p.setFont(font());

  if (rows_.isEmpty()) {
    p.setPen(muted);
    p.drawText(rect().adjusted(kMargin, kMargin + headerHeight(), -kMargin, -kMargin),
               Qt::AlignCenter | Qt::TextWordWrap, placeholder_);
    return;
  }

  const QColor barColor(0x3b82f6);
  for (int i = 0; i < rows_.size(); ++i) {
    const PredictionRow& r = rows_[i];
    const int y = kMargin + headerHeight() + i * rh;
    const Columns c = columnsFor(width(), y, rh);
    if (i % 2 == 1)
      p.fillRect(QRect(kMargin, y, width() - 2 * kMargin, rh),
                 palette().color(QPalette::AlternateBase));
    p.setPen(muted);
    p.drawText(c.rank, Qt::AlignLeft | Qt::AlignVCenter, QString::number(i + 1));
    p.setPen(text);
    const QString token = fontMetrics().elidedText(rowText(i), Qt::ElideRight, c.token.width());
    p.drawText(c.token, Qt::AlignLeft | Qt::AlignVCenter, token);
    // Bar: track then fill, width proportional to the probability.
    const QRect track = c.bar.adjusted(0, 5, 0, -5);
    p.fillRect(track, palette().color(QPalette::Midlight));
    const int fill = int(std::clamp(r.probability, 0.0, 1.0) * track.width() + 0.5);
    p.fillRect(QRect(track.left(), track.top(), fill, track.height()), barColor);
    p.drawText(c.percent, Qt::AlignRight | Qt::AlignVCenter, formatProbability(r.probability));
    p.setPen(muted);
    p.drawText(c.logit, Qt::AlignRight | Qt::AlignVCenter, QString::number(r.logit, 'f', 2));
  }
}

}  // namespace mechscope
