#pragma once
// The prompt panel's image input for vision-language models: open a PNG/JPEG, paste from the
// clipboard or drop a file or image; shown as a thumbnail with the model's patch grid over it.
#include <QImage>
#include <QWidget>

#include "core/image/image_file.h"

class QLabel;
class QPushButton;

namespace mechscope {

class ImageSlot : public QWidget {
  Q_OBJECT

 public:
  explicit ImageSlot(QWidget* parent = nullptr);

  bool hasImage() const { return !image_.isNull(); }
  const QImage& image() const { return image_; }
  /// Where the image came from (a file path, "clipboard", "task example"), for metadata.
  QString name() const { return name_; }
  /// The image as 8-bit RGB for the probes (empty without an image).
  RgbImage rgb() const;
  /// Shows `image` (any format; converted to RGB). A null image clears the slot.
  void setImage(const QImage& image, const QString& name);
  /// Decodes a PNG/JPEG file through core's reader (the same as the CLI's --image); returns
  /// false and emits failed() naming the problem.
  bool openFile(const QString& path);
  /// Takes the clipboard's image (or an image file's path on it).
  bool paste();
  void clear();
  /// Patches per side of the model's vision tower (0: not a vision-language model). The grid is
  /// drawn over the thumbnail.
  void setPatchGrid(int perSide);
  int patchGrid() const { return grid_; }

 signals:
  void imageChanged();
  void failed(const QString& message);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void refresh();

  QImage image_;
  QString name_;
  int grid_ = 0;
  QLabel* thumb_;
  QLabel* caption_;
  QPushButton* open_;
  QPushButton* paste_;
  QPushButton* clear_;
};

/// An RGB copy of a decoded image.
QImage toQImage(const RgbImage& rgb);

}  // namespace mechscope
