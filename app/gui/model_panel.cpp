#include "app/gui/model_panel.h"

#include <QAction>
#include <QCheckBox>
#include <QSignalBlocker>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QToolButton>
#include <QVBoxLayout>

#include "app/gui/model_host.h"

namespace mechscope {
namespace {

// Summary rows: field key and label.
const std::pair<const char*, const char*> kFields[] = {
    {"family", "Family"},         {"architecture", "Architecture"},
    {"parameters", "Parameters"}, {"layers", "Layers"},
    {"heads", "Heads (kv)"},      {"d_model", "d_model"},
    {"d_head", "d_head"},         {"d_mlp", "d_mlp"},
    {"vocab", "Vocabulary"},      {"context", "Context"},
    {"device", "Device"},         {"tokenizer", "Tokenizer"},
    {"processing", "Processing"}, {"sae", "SAE spliced"},
};

QToolButton* actionButton(QAction* action, QWidget* parent) {
  auto* b = new QToolButton(parent);
  b->setDefaultAction(action);
  b->setToolButtonStyle(Qt::ToolButtonTextOnly);
  b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  return b;
}

}  // namespace

ModelPanel::ModelPanel(QAction* openFolder, QAction* openFile, QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(actionButton(openFolder, this));
  layout->addWidget(actionButton(openFile, this));

  auto* summaryBox = new QGroupBox(tr("Summary"), this);
  auto* summaryLayout = new QVBoxLayout(summaryBox);
  status_ = new QLabel(tr("No model open."), summaryBox);
  status_->setObjectName("modelStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summaryLayout->addWidget(status_);
  form_ = new QFormLayout();
  for (const auto& [key, label] : kFields) {
    auto* value = new QLabel(QStringLiteral("—"), summaryBox);
    value->setObjectName(QStringLiteral("field_") + key);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form_->addRow(tr(label), value);
  }
  summaryLayout->addLayout(form_);
  layout->addWidget(summaryBox);

  auto* processBox = new QGroupBox(tr("Weight processing (TransformerLens)"), this);
  processBox->setObjectName("processingBox");
  processBox->setToolTip(tr("Rewrites the weights so log-probabilities stay the same while "
                            "weights and attributions read more cleanly; the model is reopened "
                            "with the choice and every Result records it."));
  auto* processLayout = new QVBoxLayout(processBox);
  auto check = [&](const char* name, const QString& text, const QString& tip) {
    auto* c = new QCheckBox(text, processBox);
    c->setObjectName(QString::fromLatin1(name));
    c->setToolTip(tip);
    processLayout->addWidget(c);
    connect(c, &QCheckBox::toggled, this, [this] { emit processingChanged(); });
    return c;
  };
  foldLn_ = check("fold_ln", tr("Fold norms into weights"),
                  tr("fold_ln: each norm's gain (and bias) folded into the weights reading it"));
  centerWriting_ = check("center_writing_weights", tr("Centre writing weights"),
                         tr("center_writing_weights: W_E, W_pos, W_O, W_out centred over d_model "
                            "(LayerNorm models)"));
  centerUnembed_ = check("center_unembed", tr("Centre the unembedding"),
                         tr("center_unembed: W_U centred over the vocabulary"));
  foldValueBiases_ = check("fold_value_biases", tr("Fold value biases"),
                           tr("fold_value_biases: b_V folded into b_O"));
  layout->addWidget(processBox);

  auto* installedBox = new QGroupBox(tr("Installed models (.models/)"), this);
  installedBox->setToolTip(tr("Real pretrained models: scripts/mechscope.sh models installs them"));
  auto* installedLayout = new QVBoxLayout(installedBox);
  installed_ = new QListWidget(installedBox);
  installed_->setObjectName("installedModels");
  installedLayout->addWidget(installed_);
  layout->addWidget(installedBox);
  connect(installed_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    emit recentActivated(item->data(Qt::UserRole).toString(), QString());
  });

  auto* recentBox = new QGroupBox(tr("Recent models"), this);
  auto* recentLayout = new QVBoxLayout(recentBox);
  recent_ = new QListWidget(recentBox);
  recent_->setObjectName("recentModels");
  recentLayout->addWidget(recent_);
  layout->addWidget(recentBox, 1);
  connect(recent_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    const int i = recent_->row(item);
    if (i >= 0 && i < recentModels_.size())
      emit recentActivated(recentModels_[i].path, recentModels_[i].tokenizer);
  });
}

void ModelPanel::setRecent(const QVector<RecentModel>& recent) {
  recentModels_ = recent;
  recent_->clear();
  for (const RecentModel& r : recent) {
    auto* item = new QListWidgetItem(QFileInfo(r.path).fileName(), recent_);
    item->setToolTip(r.tokenizer.isEmpty() ? r.path : r.path + tr("\ntokenizer: ") + r.tokenizer);
  }
}

void ModelPanel::setInstalled(const QStringList& paths) {
  installed_->clear();
  for (const QString& path : paths) {
    auto* item = new QListWidgetItem(QFileInfo(path).fileName(), installed_);
    item->setData(Qt::UserRole, path);
    item->setToolTip(path);
  }
  installed_->parentWidget()->setVisible(!paths.isEmpty());
}

QString ModelPanel::fieldText(const QString& field) const {
  auto* label = findChild<QLabel*>(QStringLiteral("field_") + field);
  return label ? label->text() : QString();
}

QString ModelPanel::formatParameters(qint64 n) {
  const QString exact = QLocale(QLocale::English).toString(n);
  if (n >= 1'000'000'000) return QString::number(n / 1e9, 'f', 2) + " B (" + exact + ")";
  if (n >= 1'000'000) return QString::number(n / 1e6, 'f', 1) + " M (" + exact + ")";
  if (n >= 1'000) return QString::number(n / 1e3, 'f', 1) + " K (" + exact + ")";
  return exact;
}

WeightProcessing ModelPanel::processing() const {
  WeightProcessing p;
  p.fold_ln = foldLn_->isChecked();
  p.center_writing_weights = centerWriting_->isChecked();
  p.center_unembed = centerUnembed_->isChecked();
  p.fold_value_biases = foldValueBiases_->isChecked();
  return p;
}

void ModelPanel::setProcessing(const WeightProcessing& p) {
  const QSignalBlocker a(foldLn_), b(centerWriting_), c(centerUnembed_), d(foldValueBiases_);
  foldLn_->setChecked(p.fold_ln);
  centerWriting_->setChecked(p.center_writing_weights);
  centerUnembed_->setChecked(p.center_unembed);
  foldValueBiases_->setChecked(p.fold_value_biases);
}

void ModelPanel::setField(const QString& field, const QString& text) {
  if (auto* label = findChild<QLabel*>(QStringLiteral("field_") + field)) label->setText(text);
}

void ModelPanel::onLoadStarted(const QString& path) {
  status_->setText(tr("Loading %1 …").arg(path));
}

void ModelPanel::onLoadFailed() {
  status_->setText(tr("Loading failed; the previous model (if any) stays open."));
}

void ModelPanel::onModelLoaded(const ModelSummary& s) {
  status_->setText(
      QStringLiteral("<b>%1</b><br><small>%2 (%3)</small>")
          .arg(QFileInfo(s.path).fileName().toHtmlEscaped(), s.path.toHtmlEscaped(), s.format));
  status_->setToolTip(s.path);
  setField("family", s.family);
  setField("architecture", s.architecture);
  setField("parameters", formatParameters(s.parameters));
  setField("layers", QString::number(s.layers));
  setField("heads", QStringLiteral("%1 (%2)").arg(s.heads).arg(s.kvHeads));
  setField("d_model", QString::number(s.dModel));
  setField("d_head", QString::number(s.dHead));
  setField("d_mlp", QString::number(s.dMlp));
  setField("vocab", QString::number(s.vocab));
  setField("context", QString::number(s.context));
  setField("device", s.device + QStringLiteral(", ") + s.dtype);
  setField("tokenizer", s.hasTokenizer ? tr("yes") : tr("none"));
  setField("processing", s.processing.isEmpty() ? tr("none") : s.processing.join(QStringLiteral(", ")));
  setField("sae", s.splice.isEmpty() ? tr("none") : s.splice);
}

}  // namespace mechscope
