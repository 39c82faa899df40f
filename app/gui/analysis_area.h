#pragma once
// The analysis area: one page per Result of the session, each holding that Result's view
// (views/result_view.h). Views are made the first time their Result is shown and then kept, so
// what the user set in a view (layer, head, colour scale, zoom) survives switching between
// Results; a Result not shown yet keeps the state it was given (e.g. from a session file).
#include <QHash>
#include <QStackedWidget>
#include <memory>
#include <nlohmann/json.hpp>

namespace mechscope {

struct Result;
class ResultView;

class AnalysisArea : public QStackedWidget {
  Q_OBJECT

 public:
  explicit AnalysisArea(QWidget* parent = nullptr);

  /// Adds a Result with the view state to apply when its view is made ({} for the defaults).
  void addResult(std::shared_ptr<const Result> result,
                 const nlohmann::json& state = nlohmann::json::object());
  void removeResult(const QString& id);
  void clear();
  /// Shows the view of `id` (made now when needed); the "no result selected" page for an empty or unknown id.
  void showResult(const QString& id);
  /// The id of the Result shown, or empty while the "no result selected" page is shown.
  QString currentId() const;
  /// The view of `id`, made when needed; nullptr for an unknown id.
  ResultView* view(const QString& id);
  /// The view of `id` if it was made already.
  ResultView* existingView(const QString& id) const;
  /// The state of `id`'s view: the live view's state(), or the state it was given.
  nlohmann::json viewState(const QString& id) const;
  /// {"<id>": viewState(id), ...} for every Result.
  nlohmann::json viewStates() const;

 signals:
  /// The user changed the view of `id`.
  void viewStateChanged(const QString& id);

 private:
  struct Entry {
    std::shared_ptr<const Result> result;
    ResultView* view = nullptr;
    nlohmann::json state;  // until the view exists
  };
  QHash<QString, Entry> entries_;
  QStringList order_;  // ids in the order they were added
  QWidget* noResultPage_;
};

}  // namespace mechscope
