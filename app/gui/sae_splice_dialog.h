#pragma once
// "Splice SAE…": which SAELens folder, how (reconstruction, with the error term, or only
// steering) and which features to steer. The model host does the splicing.
#include <QDialog>
#include <utility>
#include <vector>

class QLineEdit;
class QRadioButton;
class QLabel;

namespace mechscope {

class SaeSpliceDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SaeSpliceDialog(QWidget* parent = nullptr);

  QString folder() const;
  void setFolder(const QString& folder);
  bool errorTerm() const;
  bool replace() const;
  /// The parsed steering list ("12=4, 7=-2"); throws mechscope::Error on bad text.
  std::vector<std::pair<int64_t, double>> steer() const;
  /// Sets the mode: 0 reconstruction, 1 with error term, 2 activation kept (steering only).
  void setMode(int mode);
  void setSteerText(const QString& text);

 private:
  void validate();
  QLineEdit* folder_;
  QRadioButton* reconstruct_;
  QRadioButton* errorTerm_;
  QRadioButton* keep_;
  QLineEdit* steer_;
  QLabel* problem_;
};

}  // namespace mechscope
