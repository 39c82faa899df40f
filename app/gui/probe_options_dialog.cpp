#include "app/gui/probe_options_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <limits>

namespace mechscope {

using Type = probes::OptionSpec::Type;

ProbeOptionsDialog::ProbeOptionsDialog(const probes::ProbeInfo& info, const nlohmann::json& values,
                                       QWidget* parent)
    : QDialog(parent), specs_(info.options) {
  setObjectName("probeOptionsDialog");
  setWindowTitle(tr("%1 — options").arg(QString::fromStdString(info.title)));
  auto* layout = new QVBoxLayout(this);
  auto* about = new QLabel(QString::fromStdString(info.description), this);
  about->setWordWrap(true);
  layout->addWidget(about);
  auto* form = new QFormLayout();
  layout->addLayout(form);
  for (const probes::OptionSpec& s : specs_) {
    QWidget* w = nullptr;
    switch (s.type) {
      case Type::Integer: {
        auto* box = new QSpinBox(this);
        box->setRange(s.min ? static_cast<int>(*s.min) : -1000000000,
                      s.max ? static_cast<int>(*s.max) : 1000000000);
        w = box;
        break;
      }
      case Type::Number: {
        auto* box = new QDoubleSpinBox(this);
        box->setDecimals(6);
        box->setRange(s.min ? *s.min : -1e12, s.max ? *s.max : 1e12);
        w = box;
        break;
      }
      case Type::Boolean:
        w = new QCheckBox(this);
        break;
      case Type::String:
        if (!s.choices.empty()) {
          auto* box = new QComboBox(this);
          for (const std::string& c : s.choices) box->addItem(QString::fromStdString(c));
          w = box;
        } else {
          w = new QLineEdit(this);
        }
        break;
    }
    w->setObjectName(QString::fromStdString("option_" + s.name));
    w->setToolTip(QString::fromStdString(s.help));
    auto* label = new QLabel(QString::fromStdString(s.name), this);
    label->setToolTip(w->toolTip());
    if (auto* line = qobject_cast<QLineEdit*>(w); line && !s.path.empty()) {
      // A folder or file: typed, or chosen with Browse….
      auto* row = new QHBoxLayout;
      auto* browse = new QPushButton(tr("Browse…"), this);
      browse->setObjectName(QString::fromStdString("browse_" + s.name));
      row->addWidget(line, 1);
      row->addWidget(browse);
      const bool folder = s.path == "folder";
      connect(browse, &QPushButton::clicked, this, [this, line, folder, label] {
        const QString chosen =
            folder ? QFileDialog::getExistingDirectory(this, label->text(), line->text())
                   : QFileDialog::getOpenFileName(this, label->text(), line->text());
        if (!chosen.isEmpty()) line->setText(chosen);
      });
      form->addRow(label, row);
    } else {
      form->addRow(label, w);
    }
    editors_[s.name] = w;
  }
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel |
                                           QDialogButtonBox::RestoreDefaults,
                                       this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Run"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
          [this] { setValues(nlohmann::json::object()); });
  layout->addWidget(buttons);
  setValues(values);
}

QWidget* ProbeOptionsDialog::editor(const std::string& name) const {
  auto it = editors_.find(name);
  return it == editors_.end() ? nullptr : it->second;
}

void ProbeOptionsDialog::setValues(const nlohmann::json& values) {
  for (const probes::OptionSpec& s : specs_) {
    const nlohmann::json v =
        values.is_object() && values.contains(s.name) ? values.at(s.name) : s.default_value;
    QWidget* w = editors_.at(s.name);
    switch (s.type) {
      case Type::Integer:
        if (v.is_number()) static_cast<QSpinBox*>(w)->setValue(v.get<int>());
        break;
      case Type::Number:
        if (v.is_number()) static_cast<QDoubleSpinBox*>(w)->setValue(v.get<double>());
        break;
      case Type::Boolean:
        if (v.is_boolean()) static_cast<QCheckBox*>(w)->setChecked(v.get<bool>());
        break;
      case Type::String:
        if (!v.is_string()) break;
        if (auto* box = qobject_cast<QComboBox*>(w))
          box->setCurrentText(QString::fromStdString(v.get<std::string>()));
        else
          static_cast<QLineEdit*>(w)->setText(QString::fromStdString(v.get<std::string>()));
        break;
    }
  }
}

nlohmann::json ProbeOptionsDialog::values() const {
  nlohmann::json out = nlohmann::json::object();
  for (const probes::OptionSpec& s : specs_) {
    QWidget* w = editors_.at(s.name);
    switch (s.type) {
      case Type::Integer: out[s.name] = static_cast<QSpinBox*>(w)->value(); break;
      case Type::Number: out[s.name] = static_cast<QDoubleSpinBox*>(w)->value(); break;
      case Type::Boolean: out[s.name] = static_cast<QCheckBox*>(w)->isChecked(); break;
      case Type::String:
        if (auto* box = qobject_cast<QComboBox*>(w))
          out[s.name] = box->currentText().toStdString();
        else
          out[s.name] = static_cast<QLineEdit*>(w)->text().toStdString();
        break;
    }
  }
  return out;
}

}  // namespace mechscope
