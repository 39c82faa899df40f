#include "views/token_chips.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include "views/token_text.h"

namespace mechscope {
namespace {

constexpr int kMargin = 4;   // around the whole widget
constexpr int kSpacing = 4;  // between chips
constexpr int kPadX = 5;     // inside a chip
constexpr int kPadY = 2;

// Alternating soft colours so that neighbouring chips stay distinguishable.
const QColor kChipColors[] = {QColor(0xdbeafe), QColor(0xdcfce7), QColor(0xfef3c7),
                              QColor(0xfce7f3), QColor(0xede9fe)};

QFont subscriptFont(const QFont& base) {
  QFont f = base;
  f.setPointSizeF(base.pointSizeF() * 0.72);
  return f;
}

}  // namespace

TokenChips::TokenChips(QWidget* parent) : QWidget(parent) {
  QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
  policy.setHeightForWidth(true);
  setSizePolicy(policy);
  setMouseTracking(true);
}

void TokenChips::setTokens(const QVector<TokenChip>& tokens) {
  tokens_ = tokens;
  updateGeometry();
  update();
}

QString TokenChips::chipText(int index) const {
  if (index < 0 || index >= tokens_.size()) return {};
  if (tokens_[index].image_patches > 0)
    return tr("▦ image × %1").arg(tokens_[index].image_patches);
  return visibleWhitespace(tokens_[index].text);
}

void TokenChips::setPlaceholderText(const QString& text) {
  placeholder_ = text;
  update();
}

QSize TokenChips::chipSize(int index) const {
  const QFontMetrics fm(font());
  const QFontMetrics small(subscriptFont(font()));
  const int w = std::max(fm.horizontalAdvance(chipText(index)),
                         small.horizontalAdvance(QString::number(tokens_[index].id)));
  return {w + 2 * kPadX, fm.height() + small.height() + 2 * kPadY};
}

QVector<QRect> TokenChips::layoutChips(int width) const {
  QVector<QRect> rects;
  rects.reserve(tokens_.size());
  int x = kMargin, y = kMargin, rowHeight = 0;
  for (int i = 0; i < tokens_.size(); ++i) {
    const QSize s = chipSize(i);
    if (x > kMargin && x + s.width() > width - kMargin) {  // wrap
      x = kMargin;
      y += rowHeight + kSpacing;
      rowHeight = 0;
    }
    rects.push_back(QRect(QPoint(x, y), s));
    x += s.width() + kSpacing;
    rowHeight = std::max(rowHeight, s.height());
  }
  return rects;
}

int TokenChips::heightForWidth(int width) const {
  if (tokens_.isEmpty()) return minimumSizeHint().height();
  int bottom = 0;
  for (const QRect& r : layoutChips(width)) bottom = std::max(bottom, r.bottom());
  return bottom + 1 + kMargin;
}

QSize TokenChips::minimumSizeHint() const {
  const QFontMetrics fm(font());
  const QFontMetrics small(subscriptFont(font()));
  return {100, fm.height() + small.height() + 2 * kPadY + 2 * kMargin};
}

QSize TokenChips::sizeHint() const {
  const int w = 400;
  return {w, heightForWidth(w)};
}

int TokenChips::chipAt(const QPoint& pos) const {
  const QVector<QRect> rects = layoutChips(width());
  for (int i = 0; i < rects.size(); ++i)
    if (rects[i].contains(pos)) return i;
  return -1;
}

bool TokenChips::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int i = chipAt(help->pos());
    if (i >= 0) {
      const TokenChip& t = tokens_[i];
      QToolTip::showText(help->globalPos(),
                         tr("Token %1 of %2\nid %3\n\"%4\"%5")
                             .arg(i + 1)
                             .arg(tokens_.size())
                             .arg(t.id)
                             .arg(chipText(i))
                             .arg(t.image_patches > 0
                                      ? tr("\n(an image: %1 positions)").arg(t.image_patches)
                                      : t.special ? tr("\n(special token)") : QString()),
                         this);
    } else {
      QToolTip::hideText();
      event->ignore();
    }
    return true;
  }
  return QWidget::event(event);
}

void TokenChips::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  if (tokens_.isEmpty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(kMargin, kMargin, -kMargin, -kMargin),
               Qt::AlignLeft | Qt::AlignVCenter, placeholder_);
    return;
  }
  const QFontMetrics fm(font());
  const QFont small = subscriptFont(font());
  const QVector<QRect> rects = layoutChips(width());
  for (int i = 0; i < tokens_.size(); ++i) {
    const QRect r = rects[i];
    QPainterPath path;
    path.addRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
    if (tokens_[i].image_patches > 0) {
      p.setPen(QPen(QColor(0x6d28d9), 1));
      p.setBrush(QColor(0xede9fe));
    } else if (tokens_[i].special) {
      p.setPen(QPen(QColor(0x9ca3af), 1, Qt::DashLine));
      p.setBrush(QColor(0xf3f4f6));
    } else {
      const QColor fill = kChipColors[i % std::size(kChipColors)];
      p.setPen(QPen(fill.darker(130), 1));
      p.setBrush(fill);
    }
    p.drawPath(path);
    p.setFont(font());
    p.setPen(tokens_[i].special ? QColor(0x6b7280) : QColor(0x111827));
    p.drawText(QRect(r.left() + kPadX, r.top() + kPadY, r.width() - 2 * kPadX, fm.height()),
               Qt::AlignCenter, chipText(i));
    p.setFont(small);
    p.setPen(QColor(0x6b7280));
    p.drawText(QRect(r.left() + kPadX, r.top() + kPadY + fm.height(), r.width() - 2 * kPadX,
                     r.height() - fm.height() - 2 * kPadY),
               Qt::AlignCenter, QString::number(tokens_[i].id));
  }
}

}  // namespace mechscope
