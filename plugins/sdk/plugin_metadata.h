#pragma once
/// The metadata every probe plugin carries (Q_PLUGIN_METADATA(... FILE "plugin.json")), read and
/// checked before the plugin's code is loaded:
///   {"name": "head_scores", "version": "1.0.0", "sdk_version": 1, "description": "..."}
#include <QJsonObject>
#include <QString>
#include <optional>

namespace mechscope {

/// A plugin's metadata.
struct PluginInfo {
  QString name;         ///< Unique among loaded plugins; the probe name its Results carry.
  QString version;      ///< The plugin's own version ("1.0.0").
  int sdk_version = 0;  ///< The kPluginSdkVersion it was built against.
  QString description;  ///< For people.
};

/// Reads the metadata from what QPluginLoader::metaData() returns (the IID, class name and the
/// plugin's JSON under "MetaData"). Returns nullopt and sets `error` to a sentence (without the
/// file name) when the library is not a Qt plugin, implements another interface, lacks a field
/// or has one of the wrong type. The SDK version is read but not judged here.
std::optional<PluginInfo> read_plugin_info(const QJsonObject& loader_meta, QString* error);

/// Null when `info` was built for this SDK; otherwise why it cannot be loaded.
std::optional<QString> sdk_incompatibility(const PluginInfo& info);

}  // namespace mechscope
