#include "app/gui/image_slot.h"

#include <QApplication>
#include <QClipboard>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QVBoxLayout>
#include <cstring>

namespace mechscope {

namespace {
constexpr int kThumb = 96;
}

QImage toQImage(const RgbImage& rgb) {
  if (rgb.empty()) return {};
  QImage out(int(rgb.width), int(rgb.height), QImage::Format_RGB888);
  for (int64_t y = 0; y < rgb.height; ++y)
    std::memcpy(out.scanLine(int(y)), rgb.rgb.data() + y * rgb.width * 3, size_t(rgb.width * 3));
  return out;
}

ImageSlot::ImageSlot(QWidget* parent) : QWidget(parent) {
  setAcceptDrops(true);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  thumb_ = new QLabel(this);
  thumb_->setObjectName("imageThumb");
  thumb_->setFixedSize(kThumb, kThumb);
  thumb_->setAlignment(Qt::AlignCenter);
  thumb_->setFrameShape(QFrame::StyledPanel);
  layout->addWidget(thumb_);
  auto* side = new QVBoxLayout();
  caption_ = new QLabel(this);
  caption_->setObjectName("imageCaption");
  caption_->setWordWrap(true);
  side->addWidget(caption_);
  auto* buttons = new QHBoxLayout();
  open_ = new QPushButton(tr("Open…"), this);
  paste_ = new QPushButton(tr("Paste"), this);
  clear_ = new QPushButton(tr("Clear"), this);
  open_->setObjectName("imageOpen");
  paste_->setObjectName("imagePaste");
  clear_->setObjectName("imageClear");
  for (QPushButton* b : {open_, paste_, clear_}) buttons->addWidget(b);
  buttons->addStretch(1);
  side->addLayout(buttons);
  side->addStretch(1);
  layout->addLayout(side, 1);
  connect(open_, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Open image"), QString(),
                                                      tr("Images (*.png *.jpg *.jpeg)"));
    if (!file.isEmpty()) openFile(file);
  });
  connect(paste_, &QPushButton::clicked, this, [this] { paste(); });
  connect(clear_, &QPushButton::clicked, this, [this] { clear(); });
  refresh();
}

RgbImage ImageSlot::rgb() const {
  RgbImage out;
  if (image_.isNull()) return out;
  const QImage im = image_.convertToFormat(QImage::Format_RGB888);
  out.width = im.width(), out.height = im.height();
  out.rgb.resize(size_t(out.width * out.height * 3));
  for (int y = 0; y < im.height(); ++y)
    std::memcpy(out.rgb.data() + size_t(y) * size_t(out.width) * 3, im.constScanLine(y),
                size_t(out.width) * 3);
  return out;
}

void ImageSlot::setImage(const QImage& image, const QString& name) {
  image_ = image.isNull() ? QImage() : image.convertToFormat(QImage::Format_RGB888);
  name_ = image_.isNull() ? QString() : name;
  refresh();
  emit imageChanged();
}

bool ImageSlot::openFile(const QString& path) {
  try {
    setImage(toQImage(read_image_file(path.toStdString())), path);
    return true;
  } catch (const std::exception& e) {
    emit failed(QString::fromUtf8(e.what()));
    return false;
  }
}

bool ImageSlot::paste() {
  const QMimeData* mime = QApplication::clipboard()->mimeData();
  if (mime && mime->hasImage()) {
    setImage(qvariant_cast<QImage>(mime->imageData()), tr("clipboard"));
    return true;
  }
  if (mime && mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().front().isLocalFile())
    return openFile(mime->urls().front().toLocalFile());
  emit failed(tr("The clipboard holds no image."));
  return false;
}

void ImageSlot::clear() { setImage({}, {}); }

void ImageSlot::setPatchGrid(int perSide) {
  grid_ = perSide;
  setVisible(perSide > 0 || hasImage());
  refresh();
}

void ImageSlot::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* m = event->mimeData();
  if (m->hasImage() || (m->hasUrls() && !m->urls().isEmpty())) event->acceptProposedAction();
}

void ImageSlot::dropEvent(QDropEvent* event) {
  const QMimeData* m = event->mimeData();
  if (m->hasImage()) {
    setImage(qvariant_cast<QImage>(m->imageData()), tr("dropped image"));
  } else if (m->hasUrls() && !m->urls().isEmpty()) {
    openFile(m->urls().front().toLocalFile());
  }
  event->acceptProposedAction();
}

void ImageSlot::refresh() {
  clear_->setEnabled(hasImage());
  if (image_.isNull()) {
    thumb_->setPixmap({});
    thumb_->setText(tr("no image"));
    caption_->setText(tr("<b>Image</b> — open, paste or drop a PNG/JPEG"));
    return;
  }
  QImage shown = image_.scaled(kThumb, kThumb, Qt::KeepAspectRatio, Qt::SmoothTransformation)
                     .convertToFormat(QImage::Format_RGB32);
  if (grid_ > 0) {  // the model's patch grid, over the (centre-cropped) square it sees
    QPainter p(&shown);
    p.setPen(QPen(QColor(255, 255, 255, 110), 1));
    const int side = std::min(shown.width(), shown.height());
    const int x0 = (shown.width() - side) / 2, y0 = (shown.height() - side) / 2;
    for (int i = 0; i <= grid_; ++i) {
      const int t = i * (side - 1) / grid_;
      p.drawLine(x0 + t, y0, x0 + t, y0 + side - 1);
      p.drawLine(x0, y0 + t, x0 + side - 1, y0 + t);
    }
  }
  thumb_->setPixmap(QPixmap::fromImage(shown));
  caption_->setText(tr("<b>Image</b> %1 × %2 — %3%4")
                        .arg(image_.width())
                        .arg(image_.height())
                        .arg(name_.toHtmlEscaped())
                        .arg(grid_ > 0 ? tr("<br>%1 × %1 patches").arg(grid_) : QString()));
}

}  // namespace mechscope
