#include "app/gui/analysis_area.h"

#include <QLabel>
#include <QVBoxLayout>

#include "core/session/result.h"
#include "views/result_view.h"

namespace mechscope {

AnalysisArea::AnalysisArea(QWidget* parent) : QStackedWidget(parent) {
  setObjectName("analysisArea");
  noResultPage_ = new QWidget(this);
  noResultPage_->setObjectName("noResultPage");
  auto* layout = new QVBoxLayout(noResultPage_);
  auto* text = new QLabel(tr("<h3>No result selected</h3><p>Run a probe (Probes → Attention "
                             "maps, or a plugin) on the prompt, or pick a result in the "
                             "Results browser.</p>"),
                          noResultPage_);
  text->setAlignment(Qt::AlignCenter);
  text->setWordWrap(true);
  text->setEnabled(false);
  layout->addWidget(text);
  addWidget(noResultPage_);
}

void AnalysisArea::addResult(std::shared_ptr<const Result> result, const nlohmann::json& state) {
  const QString id = QString::fromStdString(result->id);
  removeResult(id);  // a new Result under an old id replaces it
  Entry entry;
  entry.result = std::move(result);
  entry.state = state.is_object() ? state : nlohmann::json::object();
  entries_.insert(id, std::move(entry));
  order_ << id;
}

void AnalysisArea::removeResult(const QString& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->view) {
    if (currentWidget() == it->view) setCurrentWidget(noResultPage_);
    removeWidget(it->view);
    it->view->deleteLater();
  }
  entries_.erase(it);
  order_.removeAll(id);
}

void AnalysisArea::clear() {
  const QStringList ids = order_;
  for (const QString& id : ids) removeResult(id);
}

ResultView* AnalysisArea::existingView(const QString& id) const {
  const auto it = entries_.constFind(id);
  return it == entries_.constEnd() ? nullptr : it->view;
}

ResultView* AnalysisArea::view(const QString& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  if (!it->view) {
    ResultView* v = create_result_view(it->result, this);
    v->setObjectName(QStringLiteral("resultView_") + id);
    v->setState(it->state);
    connect(v, &ResultView::stateChanged, this, [this, id] { emit viewStateChanged(id); });
    addWidget(v);
    it->view = v;
  }
  return it->view;
}

void AnalysisArea::showResult(const QString& id) {
  ResultView* v = id.isEmpty() ? nullptr : view(id);
  setCurrentWidget(v ? static_cast<QWidget*>(v) : noResultPage_);
}

QString AnalysisArea::currentId() const {
  for (auto it = entries_.constBegin(); it != entries_.constEnd(); ++it)
    if (it->view && it->view == currentWidget()) return it.key();
  return {};
}

nlohmann::json AnalysisArea::viewState(const QString& id) const {
  const auto it = entries_.constFind(id);
  if (it == entries_.constEnd()) return nlohmann::json::object();
  return it->view ? it->view->state() : it->state;
}

nlohmann::json AnalysisArea::viewStates() const {
  nlohmann::json states = nlohmann::json::object();
  for (const QString& id : order_) states[id.toStdString()] = viewState(id);
  return states;
}

}  // namespace mechscope
