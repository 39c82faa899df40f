#include "plugins/sdk/plugin_manager.h"

#include <QCryptographicHash>
#include <QFile>
#include <QStandardPaths>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibrary>
#include <QLoggingCategory>
#include <QPluginLoader>
#include <exception>

#include "plugins/sdk/probe_plugin.h"

// Problems are warnings; "Loaded plugin" lines are info, shown with
// QT_LOGGING_RULES="mechscope.plugins.info=true".
Q_LOGGING_CATEGORY(lcPlugins, "mechscope.plugins", QtWarningMsg)

namespace mechscope {

PluginManager::PluginManager() = default;

PluginManager::~PluginManager() {
  // Deliberately no unload(): see the header. QPluginLoader's destructor leaves the library loaded.
}

QStringList PluginManager::defaultDirectories() {
  QStringList dirs;
#ifdef MECHSCOPE_PLUGIN_BUILD_DIR
  if (QFileInfo(QStringLiteral(MECHSCOPE_PLUGIN_BUILD_DIR)).isDir())
    dirs << QStringLiteral(MECHSCOPE_PLUGIN_BUILD_DIR);
#endif
  if (QCoreApplication::instance()) {
    const QString beside = QCoreApplication::applicationDirPath() + QStringLiteral("/plugins");
    if (QFileInfo(beside).isDir()) dirs << beside;
  }
  if (QFileInfo(userDirectory()).isDir()) dirs << userDirectory();
  const QString env = qEnvironmentVariable("MECHSCOPE_PLUGIN_PATH");
  for (const QString& entry : env.split(QDir::listSeparator(), Qt::SkipEmptyParts)) dirs << entry;
  // The same directory reached twice (e.g. the build dir also named in the environment) once.
  QStringList unique;
  QStringList canonical;
  for (const QString& d : dirs) {
    const QString c = QFileInfo(d).canonicalFilePath();
    if (!c.isEmpty() && canonical.contains(c)) continue;
    if (!c.isEmpty()) canonical << c;
    unique << d;
  }
  return unique;
}

QString PluginManager::userDirectory() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
         QStringLiteral("/plugins");
}

int PluginManager::scan(const QStringList& directories) {
  const size_t before = plugins_.size();
  for (const QString& dir : directories) {
    const QFileInfo info(dir);
    if (!info.isDir()) {
      addProblem(dir, QStringLiteral("The plugin directory does not exist."));
      continue;
    }
    const QDir d(info.absoluteFilePath());
    for (const QFileInfo& file : d.entryInfoList(QDir::Files, QDir::Name))
      if (QLibrary::isLibrary(file.fileName())) scanFile(file.absoluteFilePath());
  }
  return static_cast<int>(plugins_.size() - before);
}

const LoadedPlugin* PluginManager::find(const QString& name) const {
  for (const LoadedPlugin& p : plugins_)
    if (p.info.name == name) return &p;
  return nullptr;
}

namespace {

/// SHA-256 (hex) of a file; empty when it cannot be read.
QString fileSha256(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  QCryptographicHash hash(QCryptographicHash::Sha256);
  hash.addData(&file);
  return QString::fromLatin1(hash.result().toHex());
}

}  // namespace

void PluginManager::scanFile(const QString& path) {
  const QString canonical = QFileInfo(path).canonicalFilePath();
  if (seen_.contains(canonical)) return;
  seen_ << canonical;

  auto loader = std::make_unique<QPluginLoader>(path);
  // metaData() reads the library's metadata section without running any of its code.
  QString error;
  const std::optional<PluginInfo> info = read_plugin_info(loader->metaData(), &error);
  if (!info) return addProblem(path, error);
  if (const auto why = sdk_incompatibility(*info)) return addProblem(path, *why);
  if (const LoadedPlugin* other = find(info->name))
    return addProblem(path, QStringLiteral("A plugin named \"%1\" is already loaded from %2.")
                                .arg(info->name, other->file));

  // Resolve every symbol now, so a missing one fails here instead of aborting the program at
  // the first call into it.
  loader->setLoadHints(QLibrary::ResolveAllSymbolsHint);
  QObject* root = loader->instance();
  if (!root)
    return addProblem(path,
                      QStringLiteral("It could not be loaded: %1").arg(loader->errorString()));
  auto* plugin = qobject_cast<ProbePlugin*>(root);
  if (!plugin) {
    loader->unload();  // nothing of it is in use yet
    return addProblem(path, QStringLiteral("Its root object does not implement %1.")
                                .arg(QLatin1String(kProbePluginIid)));
  }
  plugins_.push_back({QFileInfo(path).absoluteFilePath(), *info, plugin, fileSha256(path)});
  loaders_.push_back(std::move(loader));
  qCInfo(lcPlugins).noquote() << "Loaded plugin" << info->name << info->version << "from" << path;
}

void PluginManager::addProblem(const QString& file, const QString& message) {
  problems_.push_back({file, message});
  qCWarning(lcPlugins).noquote() << "Skipped" << problems_.back().text();
}

}  // namespace mechscope
