#include "app/gui/sae_splice_dialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

#include "core/sae/sae_hooks.h"
#include "core/util/error.h"

namespace mechscope {

SaeSpliceDialog::SaeSpliceDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Splice SAE"));
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  auto* row = new QHBoxLayout;
  folder_ = new QLineEdit(this);
  folder_->setObjectName("saeFolder");
  folder_->setPlaceholderText(tr("an SAELens folder (cfg.json + sae_weights.safetensors)"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  row->addWidget(folder_);
  row->addWidget(browse);
  form->addRow(tr("SAE"), row);
  reconstruct_ = new QRadioButton(tr("Replace the activation by the reconstruction"), this);
  errorTerm_ = new QRadioButton(tr("Reconstruction plus the error term (the model is unchanged; "
                                   "features become editable)"),
                                this);
  keep_ = new QRadioButton(tr("Keep the activation: steering only"), this);
  reconstruct_->setChecked(true);
  auto* modes = new QVBoxLayout;
  for (QRadioButton* b : {reconstruct_, errorTerm_, keep_}) modes->addWidget(b);
  form->addRow(tr("Splice"), modes);
  steer_ = new QLineEdit(this);
  steer_->setObjectName("saeSteer");
  steer_->setPlaceholderText(tr("FEATURE=SCALE, … (e.g. 12=4, 7=-2)"));
  form->addRow(tr("Steer"), steer_);
  layout->addLayout(form);
  problem_ = new QLabel(this);
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b00020"));
  layout->addWidget(problem_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("SAELens folder"), folder());
    if (!dir.isEmpty()) folder_->setText(dir);
  });
  auto* ok = buttons->button(QDialogButtonBox::Ok);
  auto check = [this, ok] {
    validate();
    ok->setEnabled(problem_->text().isEmpty());
  };
  connect(folder_, &QLineEdit::textChanged, this, check);
  connect(steer_, &QLineEdit::textChanged, this, check);
  check();
}

void SaeSpliceDialog::validate() {
  QString problem;
  if (folder().isEmpty()) {
    problem = tr("Choose an SAE folder.");
  } else {
    try {
      steer();
    } catch (const std::exception& e) {
      problem = QString::fromUtf8(e.what());
    }
  }
  problem_->setText(problem);
}

QString SaeSpliceDialog::folder() const { return folder_->text().trimmed(); }
void SaeSpliceDialog::setFolder(const QString& folder) { folder_->setText(folder); }
bool SaeSpliceDialog::errorTerm() const { return errorTerm_->isChecked(); }
bool SaeSpliceDialog::replace() const { return !keep_->isChecked(); }
void SaeSpliceDialog::setSteerText(const QString& text) { steer_->setText(text); }

void SaeSpliceDialog::setMode(int mode) {
  (mode == 1 ? errorTerm_ : mode == 2 ? keep_ : reconstruct_)->setChecked(true);
}

std::vector<std::pair<int64_t, double>> SaeSpliceDialog::steer() const {
  std::vector<std::pair<int64_t, double>> out;
  for (const QString& item : steer_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    const QString t = item.trimmed();
    if (!t.isEmpty()) out.push_back(sae::parse_steer(t.toStdString()));
  }
  return out;
}

}  // namespace mechscope
