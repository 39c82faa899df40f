#pragma once
/// Finds, checks and loads probe plugins. Each candidate library's metadata is read before any of
/// its code is loaded; anything wrong with a file (not a plugin, bad metadata, another SDK
/// version, a load error such as a missing symbol, a root object that is not a ProbePlugin) is
/// recorded as a PluginProblem and the file skipped, so one bad file never stops the others.
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

#include "plugins/sdk/plugin_metadata.h"

class QPluginLoader;

namespace mechscope {

class ProbePlugin;

/// Why a file or directory was skipped.
struct PluginProblem {
  QString file;     ///< The library (or directory) concerned.
  QString message;  ///< A full sentence.
  /// "<file>: <message>", for logs and dialogs.
  QString text() const { return file + QStringLiteral(": ") + message; }
};

/// A plugin that passed every check and is loaded.
struct LoadedPlugin {
  QString file;         ///< Absolute path of the library.
  PluginInfo info;      ///< Its metadata.
  ProbePlugin* plugin;  ///< Its root object; lives as long as the manager.
  QString sha256;       ///< SHA-256 of the library file as loaded (hex), to tell builds apart.
};

class PluginManager {
 public:
  PluginManager();
  /// Plugins are not unloaded: Results, exceptions and options made by a plugin's code may
  /// outlive the manager, and unloading a library whose code they reference would crash.
  ~PluginManager();
  PluginManager(const PluginManager&) = delete;
  PluginManager& operator=(const PluginManager&) = delete;

  /// Where plugins are looked for, in order: this build's plugin output directory, `plugins`
  /// beside the running executable, the user's plugin folder (userDirectory(); each when it
  /// exists), then each entry of $MECHSCOPE_PLUGIN_PATH (separated like PATH; missing entries are
  /// kept so scan() reports them). Plugins run in-process with the user's rights, like any
  /// library: nothing else is searched, and no plugin is loaded from a session or model folder.
  static QStringList defaultDirectories();
  /// The user's own plugin folder: <AppDataLocation>/plugins (~/.local/share/mechscope/plugins).
  static QString userDirectory();

  /// Checks and loads every shared library in `directories` (not recursively; other files are
  /// ignored). Files already seen by an earlier scan are skipped. Returns how many plugins were
  /// loaded by this call; problems() says what was skipped and why.
  int scan(const QStringList& directories);
  /// scan(defaultDirectories()).
  int scanDefault() { return scan(defaultDirectories()); }

  /// Loaded plugins, in the order they were found.
  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  /// Everything skipped so far, in the order it was found.
  const std::vector<PluginProblem>& problems() const { return problems_; }
  /// The loaded plugin called `name`, or nullptr.
  const LoadedPlugin* find(const QString& name) const;

 private:
  void scanFile(const QString& path);
  void addProblem(const QString& file, const QString& message);

  std::vector<LoadedPlugin> plugins_;
  std::vector<PluginProblem> problems_;
  QStringList seen_;  // canonical paths of every library examined
  std::vector<std::unique_ptr<QPluginLoader>> loaders_;  // kept alive with their plugins
};

}  // namespace mechscope
