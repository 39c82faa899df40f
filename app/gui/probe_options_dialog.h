#pragma once
// The options dialog of a probe, built from its declared options (built-in probes and plugins
// alike): a spin box per integer or number (with its range), a check box per boolean, a combo box
// per string with choices, a line edit per free string; each with the option's help as tooltip.
#include <QDialog>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "probes/probe.h"

class QWidget;

namespace mechscope {

class ProbeOptionsDialog : public QDialog {
  Q_OBJECT

 public:
  /// `values`: the options to show (missing ones show their defaults).
  ProbeOptionsDialog(const probes::ProbeInfo& info, const nlohmann::json& values,
                     QWidget* parent = nullptr);
  /// Every option as its declared type.
  nlohmann::json values() const;
  void setValues(const nlohmann::json& values);
  /// The editor of option `name` (QSpinBox, QDoubleSpinBox, QCheckBox, QComboBox or QLineEdit).
  QWidget* editor(const std::string& name) const;

 private:
  std::vector<probes::OptionSpec> specs_;
  std::map<std::string, QWidget*> editors_;
};

}  // namespace mechscope
