#include "app/gui/recent_models.h"

#include <QSettings>
#include <QVariantMap>

namespace mechscope {
namespace {
const char* kKey = "recentModels";
}

QVector<RecentModel> RecentModels::load() {
  QVector<RecentModel> out;
  const QVariantList list = QSettings().value(kKey).toList();
  for (const QVariant& v : list) {
    const QVariantMap m = v.toMap();
    const QString path = m.value("path").toString();
    if (!path.isEmpty()) out.push_back({path, m.value("tokenizer").toString()});
  }
  return out;
}

QVector<RecentModel> RecentModels::add(const RecentModel& model) {
  QVector<RecentModel> list = load();
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const RecentModel& r) { return r.path == model.path; }),
             list.end());
  list.prepend(model);
  if (list.size() > kMaxEntries) list.resize(kMaxEntries);
  QVariantList stored;
  for (const RecentModel& r : list)
    stored.push_back(QVariantMap{{"path", r.path}, {"tokenizer", r.tokenizer}});
  QSettings().setValue(kKey, stored);
  return list;
}

}  // namespace mechscope
