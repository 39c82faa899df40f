#include "app/gui/task_picker.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <random>

#include "app/gui/image_slot.h"
#include "probes/position_roles.h"
#include "probes/tasks/task.h"

namespace mechscope {

TaskPicker::TaskPicker(QWidget* parent) : QWidget(parent) {
  // Every task; image tasks (shapes VQA) also hand out their image (exampleImage).
  tasks_ = tasks::all_tasks();

  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(new QLabel(tr("Task"), this));
  combo_ = new QComboBox(this);
  combo_->setObjectName("taskCombo");
  for (const auto& task : tasks_) {
    combo_->addItem(QString::fromStdString(task->name()));
    combo_->setItemData(combo_->count() - 1, QString::fromStdString(task->description()),
                        Qt::ToolTipRole);
  }
  layout->addWidget(combo_, 1);
  newExample_ = new QPushButton(tr("New example"), this);
  newExample_->setObjectName("newExampleButton");
  newExample_->setToolTip(
      tr("Fill the prompt, corrupted prompt and answer with a fresh example of this task"));
  layout->addWidget(newExample_);
  connect(newExample_, &QPushButton::clicked, this, &TaskPicker::newExample);

  render_ = [](const std::vector<std::string>& words) {
    return QString::fromStdString(tasks::render_words(words));
  };
}

TaskPicker::~TaskPicker() = default;

QString TaskPicker::taskName() const { return combo_->currentText(); }

void TaskPicker::setTaskName(const QString& name) {
  const int i = combo_->findText(name);
  if (i >= 0) combo_->setCurrentIndex(i);
}

QStringList TaskPicker::taskNames() const {
  QStringList names;
  for (const auto& task : tasks_) names << QString::fromStdString(task->name());
  return names;
}

void TaskPicker::newExample() {
  const int index = combo_->currentIndex();
  if (index < 0 || index >= int(tasks_.size())) return;
  const tasks::Task& task = *tasks_[size_t(index)];
  const uint64_t seed = tasks::example_seed(kSeed, drawn_++);
  std::mt19937_64 rng(seed);
  tasks::TaskOptions options;
  options.max_words = maxWords_;
  try {
    const tasks::Example example = task.sample(rng, options);
    newExample_->setToolTip(tr("Last: %1, seed %2").arg(combo_->currentText()).arg(seed));
    emit exampleImage(example.image ? toQImage(probes::to_rgb(*example.image)) : QImage());
    emit exampleReady(render_(example.prompt), render_(example.corrupt), render_(example.answer),
                      render_(example.corrupt_answer));
  } catch (const std::exception& e) {
    emit failed(QString::fromUtf8(e.what()));
  }
}

}  // namespace mechscope
