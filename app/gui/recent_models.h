#pragma once
// The recently opened models, kept in QSettings (most recent first).
#include <QString>
#include <QVector>

namespace mechscope {

struct RecentModel {
  QString path;       // model folder or llama2.c .bin
  QString tokenizer;  // explicit tokenizer file, or empty for the one next to the model
};

class RecentModels {
 public:
  static constexpr int kMaxEntries = 8;
  static QVector<RecentModel> load();
  /// Moves (or adds) `model` to the front and saves the list.
  static QVector<RecentModel> add(const RecentModel& model);
};

}  // namespace mechscope
