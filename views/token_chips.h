#pragma once
// A prompt's tokenisation drawn as a wrapping row of chips: each chip shows the token's text with
// visible whitespace and its id as a small subscript (and in a tooltip).
#include <QVector>
#include <QWidget>

namespace mechscope {

struct TokenChip {
  QString text;          // the token's readable text, e.g. " the"
  qint64 id = 0;         // vocabulary id
  bool special = false;  // added by the tokenizer (BOS, …), not from the user's text
  int image_patches = 0;  // > 0: an image token, standing for this many image positions
};

class TokenChips : public QWidget {
  Q_OBJECT

 public:
  explicit TokenChips(QWidget* parent = nullptr);

  void setTokens(const QVector<TokenChip>& tokens);
  const QVector<TokenChip>& tokens() const { return tokens_; }
  int count() const { return tokens_.size(); }
  /// The text drawn on chip `index` (whitespace made visible).
  QString chipText(int index) const;
  /// Shown when there are no tokens.
  void setPlaceholderText(const QString& text);
  /// The chip under a point in widget coordinates, or -1.
  int chipAt(const QPoint& pos) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;
  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  /// Chip rectangles for a given widget width (wrapping like text).
  QVector<QRect> layoutChips(int width) const;
  QSize chipSize(int index) const;

  QVector<TokenChip> tokens_;
  QString placeholder_;
};

}  // namespace mechscope
